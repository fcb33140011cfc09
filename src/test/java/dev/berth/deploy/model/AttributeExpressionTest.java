package dev.berth.deploy.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link AttributeExpression}: the memberOf language, evaluated against a node given as a map from
 * subject to value, and the messages for malformed expressions.
 */
class AttributeExpressionTest {
    private static final Map<String, String> NODE = Map.of(
            "instanceId", "node-1",
            "hostname", "host-1.example.com",
            "attribute:zone", "us-east-1a",
            "attribute:type", "m5.large",
            "attribute:os", "linux",
            "attribute:gpu", "true",
            "attribute:label", "hello world",
            "attribute:ops", "a and b");

    private static boolean eval(String expression) {
        return AttributeExpression.parse(expression).matches(NODE::get);
    }

    static Stream<Arguments> evaluation() {
        return Stream.of(
                // == and !=
                Arguments.of("attribute:zone == us-east-1a", true),
                Arguments.of("attribute:zone == us-east-1b", false),
                Arguments.of("attribute:zone != us-east-1b", true),
                Arguments.of("attribute:zone != us-east-1a", false),
                Arguments.of("attribute:zone==us-east-1a", true),
                Arguments.of("attribute:zone!=us-east-1a", false),
                Arguments.of("instanceId == node-1", true),
                Arguments.of("instanceId == node-2", false),
                Arguments.of("hostname == host-1.example.com", true),
                // a missing attribute compares false, whatever the operator
                Arguments.of("attribute:missing == x", false),
                Arguments.of("attribute:missing != x", false),
                Arguments.of("attribute:missing in [x, y]", false),
                Arguments.of("attribute:missing not_in [x, y]", false),
                Arguments.of("attribute:missing =~ '.*'", false),
                Arguments.of("attribute:missing !~ x", false),
                // ... though negating the comparison makes it true
                Arguments.of("not attribute:missing == x", true),
                // in / not_in
                Arguments.of("attribute:zone in [us-east-1a, us-east-1b]", true),
                Arguments.of("attribute:zone in [us-east-1b,us-east-1c]", false),
                Arguments.of("attribute:zone in [us-east-1a]", true),
                Arguments.of("attribute:zone not_in [us-east-1b]", true),
                Arguments.of("attribute:zone not_in [us-east-1b, us-east-1a]", false),
                // =~ / !~ match the whole value
                Arguments.of("attribute:type =~ m5\\..*", true),
                Arguments.of("attribute:type =~ m5", false),
                Arguments.of("attribute:type =~ large", false),
                Arguments.of("attribute:type =~ \"m[45]\\.(large|xlarge)\"", true),
                Arguments.of("attribute:type =~ linux|m5.large", true),
                Arguments.of("attribute:type !~ t3.*", true),
                Arguments.of("attribute:type !~ m5.*", false),
                // exists / !exists
                Arguments.of("attribute:gpu exists", true),
                Arguments.of("attribute:missing exists", false),
                Arguments.of("attribute:missing !exists", true),
                Arguments.of("attribute:gpu !exists", false),
                // quoted values
                Arguments.of("attribute:label == \"hello world\"", true),
                Arguments.of("attribute:label == 'hello world'", true),
                Arguments.of("attribute:label == hello", false),
                Arguments.of("attribute:zone == \"us-east-1a\"", true),
                Arguments.of("attribute:ops == \"a and b\"", true),
                Arguments.of("attribute:label in ['hello world', \"x y\"]", true),
                Arguments.of("attribute:zone == \"\"", false),
                // and / or / not
                Arguments.of("attribute:zone == us-east-1a and attribute:os == linux", true),
                Arguments.of("attribute:zone == us-east-1a && attribute:os == windows", false),
                Arguments.of("attribute:zone==us-east-1a&&attribute:os==linux", true),
                Arguments.of("attribute:zone == x or attribute:os == linux", true),
                Arguments.of("attribute:zone == x || attribute:os == windows", false),
                Arguments.of("not attribute:os == windows", true),
                Arguments.of("!attribute:os == linux", false),
                Arguments.of("not not attribute:os == linux", true),
                Arguments.of("! (attribute:os == linux)", false),
                // and binds tighter than or: A or (B and C), not (A or B) and C
                Arguments.of("attribute:os == linux or attribute:zone == x and attribute:gpu == false", true),
                Arguments.of("attribute:gpu == false and attribute:zone == x or attribute:os == linux", true),
                Arguments.of("(attribute:os == linux or attribute:zone == x) and attribute:gpu == false", false),
                // not binds tighter than and: (not A) and B
                Arguments.of("not attribute:os == windows and attribute:gpu == false", false),
                Arguments.of("not (attribute:os == windows and attribute:gpu == false)", true),
                // parentheses
                Arguments.of("((attribute:os == linux))", true),
                Arguments.of("not (attribute:os == linux or attribute:gpu == true)", false),
                Arguments.of("(attribute:zone == x or attribute:zone == us-east-1a) and (attribute:type =~ m5.* or"
                        + " attribute:type =~ c5.*)", true));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource
    void evaluation(String expression, boolean expected) {
        assertEquals(expected, eval(expression));
    }

    @Test
    void toStringIsTheText() {
        assertEquals("attribute:os == linux", AttributeExpression.parse("attribute:os == linux").toString());
    }

    @Test
    void lookupIsByTheSubjectAsWritten() {
        AttributeExpression e = AttributeExpression.parse("attribute:os == linux");
        assertTrue(e.matches(s -> s.equals("attribute:os") ? "linux" : null));
        assertEquals(false, e.matches(s -> s.equals("os") ? "linux" : null));
    }

    @Test
    void unspacedOrOperatorParses() {
        assertEquals(true, eval("attribute:os==linux||attribute:gpu==false"));
        assertEquals(false, eval("attribute:os==windows||attribute:gpu==false"));
    }

    static Stream<Arguments> malformed() {
        return Stream.of(
                // empty
                Arguments.of("", "the expression is empty"),
                Arguments.of("   ", "the expression is empty"),
                Arguments.of("a".repeat(2001), "the expression is longer than 2000 characters"),
                // unknown operators
                Arguments.of("attribute:os is linux",
                        "unknown operator 'is' (==, !=, =~, !~, in, not_in, exists, !exists)"),
                Arguments.of("attribute:os like 'lin%'",
                        "unknown operator 'like' (==, !=, =~, !~, in, not_in, exists, !exists)"),
                Arguments.of("attribute:os \"==\" linux",
                        "unknown operator '==' (==, !=, =~, !~, in, not_in, exists, !exists)"),
                Arguments.of("attribute:os ~= linux", "unexpected character '~' at position 13"),
                Arguments.of("attribute:os = linux", "unexpected character '=' at position 13"),
                // parentheses
                Arguments.of("(attribute:os == linux", "the expression ends where ')' was expected"),
                Arguments.of("(attribute:os == linux ]", "missing ')' in the expression"),
                Arguments.of("attribute:os == linux)", "unexpected ')' in the expression"),
                Arguments.of("()", "expected attribute:NAME, instanceId or hostname, not ')'"),
                // regular expressions
                Arguments.of("attribute:os =~ \"lin(ux\"", "invalid regular expression 'lin(ux': Unclosed group"),
                Arguments.of("attribute:os !~ '*nux'", "invalid regular expression '*nux': Dangling meta character '*'"),
                // trailing tokens
                Arguments.of("attribute:os == linux attribute:gpu == true", "unexpected 'attribute:gpu' in the expression"),
                Arguments.of("attribute:os == linux AND attribute:gpu == true", "unexpected 'AND' in the expression"),
                Arguments.of("attribute:os == linux ,", "unexpected ',' in the expression"),
                // subjects
                Arguments.of("zone == a", "expected attribute:NAME, instanceId or hostname, not 'zone'"),
                Arguments.of("attribute: == a", "expected attribute:NAME, instanceId or hostname, not 'attribute:'"),
                Arguments.of("\"attribute:os\" == a", "expected attribute:NAME, instanceId or hostname, not 'attribute:os'"),
                // missing pieces
                Arguments.of("attribute:os", "the expression ends where an operator after attribute:os was expected"),
                Arguments.of("attribute:os ==", "the expression ends where a value was expected"),
                Arguments.of("attribute:os == linux and", "the expression ends where an attribute was expected"),
                Arguments.of("not", "the expression ends where an attribute was expected"),
                Arguments.of("attribute:os == )", "expected a value, not ')'"),
                Arguments.of("attribute:os == linux or or attribute:gpu exists",
                        "expected attribute:NAME, instanceId or hostname, not 'or'"),
                // lists
                Arguments.of("attribute:os in linux", "expected '[' after in"),
                Arguments.of("attribute:os not_in (linux)", "expected '[' after not_in"),
                Arguments.of("attribute:os in [linux, windows", "the expression ends where ']' was expected"),
                Arguments.of("attribute:os in [linux windows]", "expected ']' to close the list"),
                Arguments.of("attribute:os in []", "expected a value, not ']'"),
                Arguments.of("attribute:os in [linux,]", "expected a value, not ']'"),
                // lexical
                Arguments.of("attribute:os == \"linux", "unterminated quoted value at position 16"),
                Arguments.of("attribute:os == linux; reboot", "unexpected character ';' at position 21"));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource
    void malformed(String expression, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AttributeExpression.parse(expression));
        assertEquals(message, e.getMessage());
    }

    @Test
    void nullIsEmpty() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AttributeExpression.parse(null));
        assertEquals("the expression is empty", e.getMessage());
    }

    @Test
    void memberOfConstraintReportsParseErrorsOnItsExpressionField() {
        FieldException e = assertThrows(FieldException.class,
                () -> new PlacementConstraint("memberOf", "attribute:os is linux").normalize("placementConstraints[1]"));
        assertEquals("placementConstraints[1].expression", e.field());
        assertEquals("placementConstraints[1].expression: unknown operator 'is' (==, !=, =~, !~, in, not_in, exists,"
                + " !exists)", e.getMessage());
        PlacementConstraint ok = new PlacementConstraint("memberOf", "attribute:os == linux");
        assertEquals(ok, ok.normalize("placementConstraints[0]"));
    }
}
