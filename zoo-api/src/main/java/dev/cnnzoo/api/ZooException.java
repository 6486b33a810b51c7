package dev.cnnzoo.api;

/** An error a user can act on: its message says what is wrong and, where it can, what would be right. */
public class ZooException extends RuntimeException {
    public ZooException(String message) {
        super(message);
    }

    public ZooException(String message, Throwable cause) {
        super(message, cause);
    }
}
