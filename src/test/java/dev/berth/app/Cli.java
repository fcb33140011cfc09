package dev.berth.app;

import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;

/** Runs the {@code berth} CLI in-process for tests and reads what it printed. */
final class Cli {
    private Cli() {
    }

    /** What one CLI run printed, and its exit status. */
    record Run(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    /**
     * Writes from one thread to a buffer and everything else to the original stream, so that log
     * lines from the in-process server's threads cannot mix into the command's output.
     */
    private static final class ThreadCapture extends OutputStream {
        private final Thread owner = Thread.currentThread();
        private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        private final PrintStream original;

        ThreadCapture(PrintStream original) {
            this.original = original;
        }

        @Override
        public void write(int b) {
            if (Thread.currentThread() == owner) {
                synchronized (buffer) {
                    buffer.write(b);
                }
            } else {
                original.write(b);
            }
        }

        @Override
        public void write(byte[] b, int off, int len) {
            if (Thread.currentThread() == owner) {
                synchronized (buffer) {
                    buffer.write(b, off, len);
                }
            } else {
                original.write(b, off, len);
            }
        }

        String text() {
            synchronized (buffer) {
                return buffer.toString(StandardCharsets.UTF_8);
            }
        }
    }

    /** Runs {@code berth ARGS…} in-process the way Main.main does, minus System.exit. */
    static Run berth(String... args) {
        PrintStream originalOut = System.out;
        PrintStream originalErr = System.err;
        ThreadCapture out = new ThreadCapture(originalOut);
        ThreadCapture err = new ThreadCapture(originalErr);
        int exit;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            exit = new CommandLine(new Main()).execute(args);
            System.out.flush();
            System.err.flush();
        } finally {
            System.setOut(originalOut);
            System.setErr(originalErr);
        }
        return new Run(exit, out.text(), err.text());
    }

    /** A table printed by TableWriter: each row as header → cell, cells cut at the header's column starts. */
    static List<Map<String, String>> table(String text) {
        List<String> lines = text.lines().filter(l -> !l.isBlank()).toList();
        assertFalse(lines.isEmpty(), "no table printed");
        String header = lines.get(0);
        List<String> names = new ArrayList<>();
        List<Integer> starts = new ArrayList<>();
        // column names are separated by at least two spaces (names themselves may contain one)
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\S+(?: \\S+)*").matcher(header);
        while (m.find()) {
            names.add(m.group());
            starts.add(m.start());
        }
        List<Map<String, String>> rows = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            Map<String, String> row = new LinkedHashMap<>();
            for (int i = 0; i < names.size(); i++) {
                int from = starts.get(i);
                int to = i + 1 < names.size() ? starts.get(i + 1) : Integer.MAX_VALUE;
                String cell = from >= line.length() ? "" : line.substring(from, Math.min(to, line.length()));
                row.put(names.get(i), cell.strip());
            }
            rows.add(row);
        }
        return rows;
    }

}
