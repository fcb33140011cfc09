package dev.berth.auth;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * One scope of Docker's token protocol: {@code resourcetype[(class)]:name:action[,action...]}, e.g.
 * {@code repository:team/app:pull,push} or {@code registry:catalog:*}. The name may itself hold
 * colons (a registry host with a port), so the type ends at the first colon and the actions start
 * after the last.
 */
public record Scope(String type, String name, Set<String> actions) {

    /** The scopes in {@code values} (each may list several, space-separated); malformed ones are skipped. */
    public static List<Scope> parseAll(List<String> values) {
        List<Scope> scopes = new ArrayList<>();
        for (String value : values) {
            for (String one : value.trim().split("\\s+")) {
                Scope s = parse(one);
                if (s != null) {
                    scopes.add(s);
                }
            }
        }
        return scopes;
    }

    /** One scope, or null when it is not of the form type:name:actions. */
    public static Scope parse(String text) {
        int first = text.indexOf(':');
        int last = text.lastIndexOf(':');
        if (first <= 0 || last <= first + 1 || last == text.length() - 1) {
            return null;
        }
        String type = text.substring(0, first);
        int paren = type.indexOf('(');
        if (paren > 0 && type.endsWith(")")) {
            type = type.substring(0, paren);
        }
        Set<String> actions = new LinkedHashSet<>();
        for (String a : text.substring(last + 1).split(",")) {
            if (!a.isBlank()) {
                actions.add(a.trim());
            }
        }
        return actions.isEmpty() ? null : new Scope(type, text.substring(first + 1, last), actions);
    }

    @Override
    public String toString() {
        return type + ":" + name + ":" + String.join(",", actions);
    }
}
