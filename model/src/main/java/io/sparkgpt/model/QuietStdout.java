package io.sparkgpt.model;

import java.io.PrintStream;

/**
 * Drops the line "Added differentiated op ..." that ND4J 1.0.0-M2.1 prints with System.out.println
 * (not a logger, so it cannot be configured away) once per op whenever SameDiff builds a gradient
 * function: thousands of lines per model. Everything else passes through unchanged.
 */
final class QuietStdout extends PrintStream {

    private static final String NOISE = "Added differentiated op";

    private QuietStdout(PrintStream target) {
        super(target, true);
    }

    /** Wraps System.out once per JVM (idempotent, safe to call from every layer instantiation). */
    static synchronized void install() {
        if (!(System.out instanceof QuietStdout)) {
            System.setOut(new QuietStdout(System.out));
        }
    }

    @Override
    public void println(String line) {
        if (line != null && line.startsWith(NOISE)) {
            return;
        }
        super.println(line);
    }
}
