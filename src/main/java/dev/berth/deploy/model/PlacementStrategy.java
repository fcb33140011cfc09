package dev.berth.deploy.model;

/**
 * How to rank the nodes a task fits on: {@code spread} by {@code instanceId} (or {@code host}) or
 * by {@code attribute:NAME}; {@code binpack} by {@code cpu} or {@code memory}; {@code random}.
 * Several strategies rank lexicographically, first one first.
 */
public record PlacementStrategy(String type, String field) {
    public static final PlacementStrategy SPREAD_INSTANCES = new PlacementStrategy("spread", "instanceId");

    public PlacementStrategy normalize(String at) {
        String t = Check.required(at + ".type", type);
        switch (t) {
            case "spread" -> {
                String f = Check.required(at + ".field", field);
                if (f.equals("host")) {
                    return new PlacementStrategy(t, "instanceId");
                }
                if (!f.equals("instanceId") && !(f.startsWith("attribute:") && f.length() > "attribute:".length())) {
                    throw new FieldException(at + ".field", at + ".field for spread must be instanceId, host or attribute:NAME");
                }
                return this;
            }
            case "binpack" -> {
                String f = Check.required(at + ".field", field);
                if (!f.equals("cpu") && !f.equals("memory")) {
                    throw new FieldException(at + ".field", at + ".field for binpack must be cpu or memory");
                }
                return this;
            }
            case "random" -> {
                if (field != null) {
                    throw new FieldException(at + ".field", at + ".field is not used by random");
                }
                return this;
            }
            default -> throw new FieldException(at + ".type", at + ".type must be spread, binpack or random, not "
                    + Check.shorten(t));
        }
    }
}
