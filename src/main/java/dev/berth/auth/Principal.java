package dev.berth.auth;

import java.util.List;
import java.util.Set;

/**
 * Who a request comes from, as far as authentication could tell.
 *
 * @param kind how they proved it
 * @param name the user name (for a CI token: its owner; for an agent: {@code agent:<node>}); {@code anonymous} without credentials
 * @param groups the user's groups when the request was authenticated
 * @param grants what the credential itself is limited to: a token's scope, a CI token's globs, an
 *               agent's images; null for a user's own password (then only the rules limit them)
 * @param apiAccess whether a CI token was made for the control-plane API
 * @param tokenId the CI token's id, or null
 */
public record Principal(Kind kind, String name, Set<String> groups, List<Grant> grants, boolean apiAccess,
                        String tokenId) {
    public enum Kind {
        /** No credentials. */
        ANONYMOUS,
        /** A user's password. */
        USER,
        /** A Berth-issued bearer token (its claims say what it grants). */
        BEARER,
        /** A CI token made with {@code berth token create}. */
        CI_TOKEN,
        /** A node's pull credential, for the images it was told to run. */
        AGENT
    }

    public static final Principal ANONYMOUS = new Principal(Kind.ANONYMOUS, "anonymous", Set.of(), null, false, null);

    public Principal {
        groups = groups == null ? Set.of() : Set.copyOf(groups);
        grants = grants == null ? null : List.copyOf(grants);
    }

    public static Principal user(String name, Set<String> groups) {
        return new Principal(Kind.USER, name, groups, null, false, null);
    }

    public boolean anonymous() {
        return kind == Kind.ANONYMOUS;
    }

    /** What the audit log names as the actor: the user, {@code user (token ID)}, or the agent. */
    public String actor() {
        return tokenId == null ? name : name + " (token " + tokenId + ")";
    }

    /**
     * One grant: on resources of {@code type} ({@code repository} or {@code registry}) whose name
     * matches {@code name} (a repository glob for CI tokens, an exact name in bearer tokens), the
     * {@code actions}.
     */
    public record Grant(String type, String name, Set<String> actions) {
        public Grant {
            actions = Set.copyOf(actions);
        }
    }
}
