package dev.berth.deploy.model;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The expression of a {@code memberOf} constraint, in the subset of ECS's cluster query language
 * that concerns a node:
 *
 * <pre>
 *   expr    := orExpr
 *   orExpr  := andExpr (("or" | "||") andExpr)*
 *   andExpr := unary (("and" | "&&") unary)*
 *   unary   := ("not" | "!") unary | "(" expr ")" | term
 *   term    := subject ("==" | "!=" | "=~" | "!~") value
 *            | subject ("in" | "not_in") "[" value ("," value)* "]"
 *            | subject ("exists" | "!exists")
 *   subject := attribute:NAME | instanceId | hostname
 *   value   := a word of letters, digits and _.:/@*- , or a quoted string
 * </pre>
 *
 * {@code =~} matches a whole value against a regular expression. A comparison with a missing
 * attribute is false ({@code !=} and {@code not_in} included), like ECS.
 */
public final class AttributeExpression {
    private final Node root;
    private final String text;

    private AttributeExpression(Node root, String text) {
        this.root = root;
        this.text = text;
    }

    /** Parses {@code text}; the exception's message says where and what is wrong. */
    public static AttributeExpression parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("the expression is empty");
        }
        if (text.length() > 2000) {
            throw new IllegalArgumentException("the expression is longer than 2000 characters");
        }
        Parser p = new Parser(tokenize(text));
        Node n = p.or();
        if (p.pos != p.tokens.size()) {
            throw new IllegalArgumentException("unexpected '" + p.tokens.get(p.pos) + "' in the expression");
        }
        return new AttributeExpression(n, text);
    }

    /** True when a node whose subjects resolve through {@code lookup} (null: absent) matches. */
    public boolean matches(Function<String, String> lookup) {
        return root.eval(lookup);
    }

    @Override
    public String toString() {
        return text;
    }

    private interface Node {
        boolean eval(Function<String, String> lookup);
    }

    private static List<String> tokenize(String s) {
        List<String> tokens = new ArrayList<>();
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (c == '(' || c == ')' || c == '[' || c == ']' || c == ',') {
                tokens.add(String.valueOf(c));
                i++;
            } else if (s.startsWith("==", i) || s.startsWith("!=", i) || s.startsWith("=~", i) || s.startsWith("!~", i)
                    || s.startsWith("&&", i) || s.startsWith("||", i)) {
                tokens.add(s.substring(i, i + 2));
                i += 2;
            } else if (s.startsWith("!exists", i)) {
                tokens.add("!exists");
                i += 7;
            } else if (c == '!') {
                tokens.add("!");
                i++;
            } else if (c == '"' || c == '\'') {
                int end = s.indexOf(c, i + 1);
                if (end < 0) {
                    throw new IllegalArgumentException("unterminated quoted value at position " + i);
                }
                // A leading quote marks the token as a literal value.
                tokens.add("\"" + s.substring(i + 1, end));
                i = end + 1;
            } else {
                int start = i;
                // "||" ends a word even without spaces; a regex that needs "||" is quoted.
                while (i < s.length() && isWordChar(s.charAt(i)) && !s.startsWith("||", i)) {
                    i++;
                }
                if (start == i) {
                    throw new IllegalArgumentException("unexpected character '" + c + "' at position " + i);
                }
                tokens.add(s.substring(start, i));
            }
        }
        return tokens;
    }

    private static boolean isWordChar(char c) {
        return Character.isLetterOrDigit(c) || "_.:/@*-+^$?{}\\|".indexOf(c) >= 0;
    }

    private static final class Parser {
        final List<String> tokens;
        int pos;

        Parser(List<String> tokens) {
            this.tokens = tokens;
        }

        String peek() {
            return pos < tokens.size() ? tokens.get(pos) : null;
        }

        String next(String expected) {
            if (pos >= tokens.size()) {
                throw new IllegalArgumentException("the expression ends where " + expected + " was expected");
            }
            return tokens.get(pos++);
        }

        Node or() {
            Node left = and();
            while ("or".equals(peek()) || "||".equals(peek())) {
                pos++;
                Node l = left;
                Node r = and();
                left = lookup -> l.eval(lookup) || r.eval(lookup);
            }
            return left;
        }

        Node and() {
            Node left = unary();
            while ("and".equals(peek()) || "&&".equals(peek())) {
                pos++;
                Node l = left;
                Node r = unary();
                left = lookup -> l.eval(lookup) && r.eval(lookup);
            }
            return left;
        }

        Node unary() {
            String t = peek();
            if ("not".equals(t) || "!".equals(t)) {
                pos++;
                Node inner = unary();
                return lookup -> !inner.eval(lookup);
            }
            if ("(".equals(t)) {
                pos++;
                Node inner = or();
                if (!")".equals(next("')'"))) {
                    throw new IllegalArgumentException("missing ')' in the expression");
                }
                return inner;
            }
            return term();
        }

        Node term() {
            String subject = next("an attribute");
            if (!(subject.startsWith("attribute:") && subject.length() > 10) && !subject.equals("instanceId")
                    && !subject.equals("hostname")) {
                throw new IllegalArgumentException("expected attribute:NAME, instanceId or hostname, not '"
                        + display(subject) + "'");
            }
            String op = next("an operator after " + subject);
            switch (op) {
                case "exists":
                    return lookup -> lookup.apply(subject) != null;
                case "!exists":
                    return lookup -> lookup.apply(subject) == null;
                case "==", "!=": {
                    String value = value();
                    boolean eq = op.equals("==");
                    return lookup -> {
                        String v = lookup.apply(subject);
                        return v != null && v.equals(value) == eq;
                    };
                }
                case "=~", "!~": {
                    String regex = value();
                    Pattern pattern;
                    try {
                        pattern = Pattern.compile(regex);
                    } catch (PatternSyntaxException e) {
                        throw new IllegalArgumentException("invalid regular expression '" + regex + "': " + e.getDescription());
                    }
                    boolean match = op.equals("=~");
                    return lookup -> {
                        String v = lookup.apply(subject);
                        return v != null && pattern.matcher(v).matches() == match;
                    };
                }
                case "in", "not_in": {
                    if (!"[".equals(next("'['"))) {
                        throw new IllegalArgumentException("expected '[' after " + op);
                    }
                    List<String> values = new ArrayList<>();
                    values.add(value());
                    while (",".equals(peek())) {
                        pos++;
                        values.add(value());
                    }
                    if (!"]".equals(next("']'"))) {
                        throw new IllegalArgumentException("expected ']' to close the list");
                    }
                    boolean in = op.equals("in");
                    return lookup -> {
                        String v = lookup.apply(subject);
                        return v != null && values.contains(v) == in;
                    };
                }
                default:
                    throw new IllegalArgumentException("unknown operator '" + display(op) + "' (==, !=, =~, !~, in, not_in,"
                            + " exists, !exists)");
            }
        }

        String value() {
            String t = next("a value");
            if (t.startsWith("\"")) {
                return t.substring(1);
            }
            if (t.length() == 1 && "()[],!".contains(t) || t.equals("&&") || t.equals("||")) {
                throw new IllegalArgumentException("expected a value, not '" + t + "'");
            }
            return t;
        }

        static String display(String token) {
            return token.startsWith("\"") ? token.substring(1) : token;
        }
    }
}
