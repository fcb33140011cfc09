package dev.berth.deploy.model;

/**
 * A rule every node a task is placed on must pass: {@code distinctInstance} (no two tasks of the
 * same group on one node) or {@code memberOf} with an {@link AttributeExpression}.
 */
public record PlacementConstraint(String type, String expression) {
    public PlacementConstraint normalize(String at) {
        String t = Check.required(at + ".type", type);
        switch (t) {
            case "distinctInstance" -> {
                if (expression != null) {
                    throw new FieldException(at + ".expression", at + ".expression is not used by distinctInstance");
                }
                return this;
            }
            case "memberOf" -> {
                String e = Check.required(at + ".expression", expression);
                try {
                    AttributeExpression.parse(e);
                } catch (IllegalArgumentException ex) {
                    throw new FieldException(at + ".expression", at + ".expression: " + ex.getMessage());
                }
                return this;
            }
            default -> throw new FieldException(at + ".type", at + ".type must be distinctInstance or memberOf, not "
                    + Check.shorten(t));
        }
    }
}
