package io.sparkgpt.jobs.tokenize;

import io.sparkgpt.jobs.UserInputException;

import java.util.Locale;

/** How a corpus's files become documents. */
public enum InputFormat {
    /** Each file is one document. */
    TEXT(false),
    /** Each non-empty line is one document. */
    LINES(true),
    /** One JSON object a line; a string field holds the document. */
    JSONL(true),
    /** A string column of Parquet files holds the documents. */
    PARQUET(false);

    private final boolean splittable;

    InputFormat(boolean splittable) {
        this.splittable = splittable;
    }

    /** Whether one large file may be cut into byte ranges read by different tasks. */
    public boolean splittable() {
        return splittable;
    }

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static InputFormat of(String name) {
        for (InputFormat f : values()) {
            if (f.id().equals(name)) {
                return f;
            }
        }
        throw new UserInputException("unknown --format '" + name + "': use text, lines, jsonl or parquet");
    }
}
