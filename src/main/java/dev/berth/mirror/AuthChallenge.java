package dev.berth.mirror;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * One challenge of a {@code WWW-Authenticate} header (RFC 7235): a scheme and its parameters, e.g.
 * {@code Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"}.
 * Parameter names are lower-cased; quoted values are unescaped.
 */
public record AuthChallenge(String scheme, Map<String, String> params) {

    public boolean isBearer() {
        return scheme.equalsIgnoreCase("Bearer");
    }

    public boolean isBasic() {
        return scheme.equalsIgnoreCase("Basic");
    }

    public Optional<String> param(String name) {
        return Optional.ofNullable(params.get(name.toLowerCase(Locale.ROOT)));
    }

    /** Every challenge in a header value; empty when it cannot be read. */
    public static List<AuthChallenge> parse(String header) {
        List<AuthChallenge> out = new ArrayList<>();
        if (header == null) {
            return out;
        }
        Parser p = new Parser(header);
        while (true) {
            p.skipSpaceAndCommas();
            String scheme = p.token();
            if (scheme.isEmpty()) {
                return p.atEnd() ? out : List.of();
            }
            Map<String, String> params = new LinkedHashMap<>();
            while (true) {
                int mark = p.pos;
                p.skipSpaceAndCommas();
                String name = p.token();
                p.skipSpace();
                if (name.isEmpty() || !p.consume('=')) {
                    p.pos = mark; // the next challenge's scheme (or the end)
                    break;
                }
                p.skipSpace();
                String value = p.peek() == '"' ? p.quoted() : p.token();
                if (value == null) {
                    return List.of();
                }
                params.put(name.toLowerCase(Locale.ROOT), value);
            }
            out.add(new AuthChallenge(scheme, Map.copyOf(params)));
        }
    }

    private static final class Parser {
        private final String s;
        private int pos;

        Parser(String s) {
            this.s = s;
        }

        boolean atEnd() {
            return pos >= s.length();
        }

        char peek() {
            return atEnd() ? 0 : s.charAt(pos);
        }

        boolean consume(char c) {
            if (peek() == c) {
                pos++;
                return true;
            }
            return false;
        }

        void skipSpace() {
            while (!atEnd() && (s.charAt(pos) == ' ' || s.charAt(pos) == '\t')) {
                pos++;
            }
        }

        void skipSpaceAndCommas() {
            while (!atEnd() && (s.charAt(pos) == ' ' || s.charAt(pos) == '\t' || s.charAt(pos) == ',')) {
                pos++;
            }
        }

        /** An RFC 7230 token (also accepting '/' and ':' which unquoted values use in practice). */
        String token() {
            int start = pos;
            while (!atEnd()) {
                char c = s.charAt(pos);
                if (Character.isLetterOrDigit(c) || "!#$%&'*+-.^_`|~/:".indexOf(c) >= 0) {
                    pos++;
                } else {
                    break;
                }
            }
            return s.substring(start, pos);
        }

        /** A quoted string with backslash escapes; null when unterminated. */
        String quoted() {
            StringBuilder b = new StringBuilder();
            pos++; // opening quote
            while (!atEnd()) {
                char c = s.charAt(pos++);
                if (c == '"') {
                    return b.toString();
                }
                if (c == '\\' && !atEnd()) {
                    c = s.charAt(pos++);
                }
                b.append(c);
            }
            return null;
        }
    }
}
