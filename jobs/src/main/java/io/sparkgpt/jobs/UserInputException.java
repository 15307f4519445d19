package io.sparkgpt.jobs;

/**
 * Bad input from the user (a missing path, an option out of range, a corpus too small): the
 * message names the input and the fix, and the command line exits with status 2 without a trace.
 */
public class UserInputException extends RuntimeException {
    public UserInputException(String message) {
        super(message);
    }
}
