package dev.berth.deploy.scheduler;

import dev.berth.deploy.model.AttributeExpression;
import dev.berth.deploy.model.PlacementConstraint;
import dev.berth.deploy.model.PlacementStrategy;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Places tasks on nodes: a pure function of the snapshot, the requirements and the random source.
 * Each task is placed in turn against the snapshot as changed by the tasks placed before it, so a
 * batch spreads, packs and respects ports and distinctInstance among its own tasks too.
 */
public final class Scheduler {
    private Scheduler() {
    }

    /** A node during one placement run: the snapshot's values plus what this run has put on it. */
    private static final class Candidate {
        final NodeSnapshot node;
        int cpuFree;
        int memoryFree;
        final Set<String> ports;
        final Map<String, Integer> groups;
        double randomKey;

        Candidate(NodeSnapshot node) {
            this.node = node;
            this.cpuFree = node.cpuFree();
            this.memoryFree = node.memoryFree();
            this.ports = new HashSet<>(node.usedPorts());
            this.groups = new HashMap<>(node.groupCounts());
        }

        int inGroup(String group) {
            return groups.getOrDefault(group, 0);
        }
    }

    /** One feasibility step: the nodes it keeps, and what to tell the operator when it keeps none. */
    private record Step(Predicate<Candidate> keeps, String noneLeft) {
    }

    /** Where one task of {@link #placeEach} went: a node id, or null and the reason. */
    public record Outcome(String node, String reason) {
    }

    /**
     * Places tasks with different requirements in one pass, in the order given (the oldest waiting
     * task first): each sees the nodes as the tasks before it left them. A task that does not fit
     * does not stop the others.
     */
    public static List<Outcome> placeEach(ClusterSnapshot snapshot, List<TaskRequirements> tasks, Random random) {
        List<Candidate> nodes = candidates(snapshot);
        List<Outcome> outcomes = new ArrayList<>();
        for (TaskRequirements r : tasks) {
            Placement p = place(snapshot.cluster(), nodes, r, 1, random);
            outcomes.add(p.nodes().isEmpty() ? new Outcome(null, p.reason()) : new Outcome(p.nodes().get(0), null));
        }
        return outcomes;
    }

    /** Places up to {@code count} tasks with {@code requirements} on the snapshot's nodes. */
    public static Placement place(ClusterSnapshot snapshot, TaskRequirements requirements, int count, Random random) {
        return place(snapshot.cluster(), candidates(snapshot), requirements, count, random);
    }

    private static List<Candidate> candidates(ClusterSnapshot snapshot) {
        List<Candidate> nodes = new ArrayList<>();
        for (NodeSnapshot n : snapshot.nodes()) {
            nodes.add(new Candidate(n));
        }
        return nodes;
    }

    private static Placement place(String cluster, List<Candidate> nodes, TaskRequirements requirements, int count,
                                   Random random) {
        List<Step> steps = steps(requirements);
        List<String> placed = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            List<Candidate> feasible = nodes;
            String reason = null;
            if (feasible.isEmpty()) {
                reason = "cluster " + cluster + " has no nodes";
            }
            for (Step step : steps) {
                if (reason != null) {
                    break;
                }
                List<Candidate> kept = new ArrayList<>();
                for (Candidate c : feasible) {
                    if (step.keeps().test(c)) {
                        kept.add(c);
                    }
                }
                if (kept.isEmpty()) {
                    reason = step.noneLeft();
                }
                feasible = kept;
            }
            if (reason != null) {
                return new Placement(placed, reason);
            }
            Candidate best = best(feasible, nodes, requirements, random);
            best.cpuFree -= requirements.cpu();
            best.memoryFree -= requirements.memory();
            best.ports.addAll(requirements.hostPorts());
            best.groups.merge(requirements.group(), 1, Integer::sum);
            placed.add(best.node.id());
        }
        return new Placement(placed, null);
    }

    /**
     * The feasibility steps, cheapest and most basic first, so that the reason given for "nothing
     * fits" is the most fundamental one (no usable node before not enough memory).
     */
    private static List<Step> steps(TaskRequirements r) {
        List<Step> steps = new ArrayList<>();
        // Draining nodes only lose tasks; new work goes elsewhere.
        steps.add(new Step(c -> c.node.active(), "no ACTIVE node (every node is DRAINING)"));
        // A node whose agent is away cannot start anything; placing there would leave the task hanging.
        steps.add(new Step(c -> c.node.connected(), "no ACTIVE node has a connected agent"));
        for (PlacementConstraint constraint : r.constraints()) {
            if (constraint.type().equals("distinctInstance")) {
                steps.add(new Step(c -> c.inGroup(r.group()) == 0,
                        "every ACTIVE node already runs a task of " + r.group() + " (distinctInstance)"));
            } else {
                AttributeExpression e = AttributeExpression.parse(constraint.expression());
                steps.add(new Step(c -> e.matches(c.node::subject),
                        "no ACTIVE node matches memberOf(" + constraint.expression() + ")"));
            }
        }
        if (r.cpu() > 0) {
            steps.add(new Step(c -> c.cpuFree >= r.cpu(), "no ACTIVE node has " + r.cpu() + " CPU units free"));
        }
        steps.add(new Step(c -> c.memoryFree >= r.memory(), "no ACTIVE node has " + r.memory() + " MiB memory free"));
        if (!r.hostPorts().isEmpty()) {
            steps.add(new Step(c -> r.hostPorts().stream().noneMatch(c.ports::contains),
                    "no ACTIVE node has host port" + (r.hostPorts().size() == 1 ? " " : "s ")
                            + String.join(", ", r.hostPorts()) + " free"));
        }
        return steps;
    }

    /** Ranks the feasible nodes by the strategies in order (ties: next strategy, then node id). */
    private static Candidate best(List<Candidate> feasible, List<Candidate> all, TaskRequirements r, Random random) {
        Comparator<Candidate> order = null;
        for (PlacementStrategy s : r.strategies()) {
            Comparator<Candidate> next = switch (s.type()) {
                case "spread" -> s.field().equals("instanceId")
                        ? Comparator.comparingInt(c -> c.inGroup(r.group()))
                        : spreadByAttribute(s.field().substring("attribute:".length()), all, r.group());
                // Least left after placing is best: fill nodes before opening new ones.
                case "binpack" -> s.field().equals("cpu")
                        ? Comparator.comparingInt(c -> c.cpuFree)
                        : Comparator.comparingInt(c -> c.memoryFree);
                case "random" -> {
                    for (Candidate c : feasible) {
                        c.randomKey = random.nextDouble();
                    }
                    yield Comparator.comparingDouble(c -> c.randomKey);
                }
                default -> throw new IllegalArgumentException("unknown strategy " + s.type());
            };
            order = order == null ? next : order.thenComparing(next);
        }
        order = order.thenComparing(c -> c.node.id());
        Candidate best = feasible.get(0);
        for (Candidate c : feasible) {
            if (order.compare(c, best) < 0) {
                best = c;
            }
        }
        return best;
    }

    /**
     * Spread over an attribute's values: a node ranks by how many tasks of the group run on all the
     * nodes sharing its value (nodes without the attribute share the value "none").
     */
    private static Comparator<Candidate> spreadByAttribute(String attribute, List<Candidate> all, String group) {
        Map<String, Integer> perValue = new HashMap<>();
        for (Candidate c : all) {
            perValue.merge(valueOf(c, attribute), c.inGroup(group), Integer::sum);
        }
        return Comparator.comparingInt(c -> perValue.getOrDefault(valueOf(c, attribute), 0));
    }

    private static String valueOf(Candidate c, String attribute) {
        String v = c.node.attributes().get(attribute);
        return v == null ? "\0none" : v;
    }
}
