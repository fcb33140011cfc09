package dev.berth.auth;

import dev.berth.config.BerthConfig.AccessRuleConfig;
import dev.berth.config.BerthConfig.AuthConfig;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a {@link Principal} may do, from {@code auth.admins} and {@code auth.rules}:
 * <ul>
 *   <li>admins may do everything: every action on every repository, the catalog, the control-plane API;</li>
 *   <li>everyone else gets the union of the actions of the rules that match the repository and
 *       name them (as a user, through a group, {@code "*"} for any signed-in user, or
 *       {@code anonymous: true} for everyone);</li>
 *   <li>a credential that carries grants (a bearer token, a CI token, a node's pull credential)
 *       never gives more than its grants; a CI token gives the intersection of its grants and what
 *       its owner may do now.</li>
 * </ul>
 */
public final class AccessControl {
    public static final String PULL = "pull";
    public static final String PUSH = "push";
    public static final String DELETE = "delete";
    public static final Set<String> ALL = Set.of(PULL, PUSH, DELETE);

    private record Rule(List<RepositoryGlob> repositories, Set<String> users, Set<String> groups, boolean anonymous,
                        Set<String> actions) {
    }

    private final Set<String> adminUsers;
    private final Set<String> adminGroups;
    private final List<Rule> rules;
    private final Users users;
    /** CI tokens' globs, compiled once (there are as many as tokens' repository entries). */
    private final java.util.Map<String, RepositoryGlob> globs = new java.util.concurrent.ConcurrentHashMap<>();

    public AccessControl(AuthConfig config, Users users) {
        this.adminUsers = Set.copyOf(config.admins().users());
        this.adminGroups = Set.copyOf(config.admins().groups());
        this.users = users;
        List<Rule> list = new ArrayList<>();
        for (AccessRuleConfig r : config.rules()) {
            Set<String> actions = r.actions().contains("*") ? ALL : Set.copyOf(r.actions());
            list.add(new Rule(r.repositories().stream().map(RepositoryGlob::of).toList(), Set.copyOf(r.users()),
                    Set.copyOf(r.groups()), r.anonymous(), actions));
        }
        this.rules = List.copyOf(list);
    }

    /** Whether the user {@code name} with {@code groups} is an admin. */
    public boolean isAdmin(String name, Set<String> groups) {
        return name != null && (adminUsers.contains(name) || !Collections.disjoint(adminGroups, groups));
    }

    /** The actions the rules give the user {@code name} (null: anonymous) with {@code groups} on {@code repository}. */
    Set<String> ruleActions(String name, Set<String> groups, String repository) {
        if (isAdmin(name, groups)) {
            return ALL;
        }
        Set<String> actions = new TreeSet<>();
        for (Rule r : rules) {
            boolean names = r.anonymous() || (name != null && (r.users().contains(name) || r.users().contains("*")
                    || !Collections.disjoint(r.groups(), groups)));
            if (names && r.repositories().stream().anyMatch(g -> g.matches(repository))) {
                actions.addAll(r.actions());
            }
        }
        return actions;
    }

    /** What {@code p} may do on {@code repository}: a subset of pull, push, delete. */
    public Set<String> allowed(Principal p, String repository) {
        return switch (p.kind()) {
            case ANONYMOUS -> ruleActions(null, Set.of(), repository);
            case USER -> ruleActions(p.name(), p.groups(), repository);
            case CI_TOKEN -> {
                // The owner's rights as they are now (a removed owner has none), within the token's globs.
                if (!users.exists(p.name())) {
                    yield Set.of();
                }
                Set<String> owner = ruleActions(p.name(), users.groupsOf(p.name()), repository);
                Set<String> granted = new HashSet<>();
                for (Principal.Grant g : p.grants()) {
                    if (g.type().equals("repository") && glob(g.name()).matches(repository)) {
                        granted.addAll(g.actions());
                    }
                }
                granted.retainAll(owner);
                yield granted;
            }
            case BEARER, AGENT -> {
                Set<String> granted = new HashSet<>();
                for (Principal.Grant g : p.grants()) {
                    if (g.type().equals("repository") && g.name().equals(repository)) {
                        granted.addAll(g.actions().contains("*") ? ALL : g.actions());
                    }
                }
                granted.retainAll(ALL);
                yield granted;
            }
        };
    }

    private RepositoryGlob glob(String text) {
        RepositoryGlob g = globs.get(text);
        if (g == null) {
            g = RepositoryGlob.of(text);
            if (globs.size() < 100_000) {
                globs.put(text, g);
            }
        }
        return g;
    }

    /** Whether {@code p} may list every repository ({@code registry:catalog:*}). */
    public boolean catalog(Principal p) {
        return switch (p.kind()) {
            case USER -> isAdmin(p.name(), p.groups());
            case CI_TOKEN -> p.apiAccess() && users.exists(p.name()) && isAdmin(p.name(), users.groupsOf(p.name()));
            case BEARER -> p.grants().stream().anyMatch(g -> g.type().equals("registry") && g.name().equals("catalog")
                    && g.actions().contains("*"));
            default -> false;
        };
    }

    /** Whether {@code p} may use the control-plane API: an admin, or a CI token made for it by an admin. */
    public boolean api(Principal p) {
        return switch (p.kind()) {
            case USER -> isAdmin(p.name(), p.groups());
            case CI_TOKEN -> p.apiAccess() && users.exists(p.name()) && isAdmin(p.name(), users.groupsOf(p.name()));
            default -> false;
        };
    }
}
