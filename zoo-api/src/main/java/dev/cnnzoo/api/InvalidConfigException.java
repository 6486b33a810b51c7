package dev.cnnzoo.api;

/** A {@link ModelConfig} value that cannot work, named with the reason. */
public final class InvalidConfigException extends ZooException {
    public InvalidConfigException(String message) {
        super(message);
    }

    public InvalidConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
