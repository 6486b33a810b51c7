package dev.cnnzoo.serve;

/**
 * A request the server refuses, with the HTTP status and the message the client gets in the
 * protocol's error object ({@code {"error": message}}).
 */
public class RequestException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int status;

    public RequestException(int status, String message) {
        super(message);
        this.status = status;
    }

    public RequestException(int status, String message, Throwable cause) {
        super(message, cause);
        this.status = status;
    }

    public int status() {
        return status;
    }

    static RequestException badRequest(String message) {
        return new RequestException(400, message);
    }
}
