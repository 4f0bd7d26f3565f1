package dev.rg.server;

/**
 * A request that fails with an OpenAI-style error: {@code {"error": {"message", "type", "param", "code"}}} and
 * an HTTP status.
 */
final class ApiException extends RuntimeException {
    private final int status;
    private final String type;
    private final String param;
    private final String code;

    ApiException(int status, String type, String param, String code, String message) {
        super(message, null, false, false);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    /** 400: the request is malformed or a parameter is out of range. */
    static ApiException badRequest(String param, String message) {
        return new ApiException(400, "invalid_request_error", param, param == null ? "invalid_request" : "invalid_value", message);
    }

    static ApiException unauthorized(String message) {
        return new ApiException(401, "invalid_request_error", null, "invalid_api_key", message);
    }

    static ApiException notFound(String param, String code, String message) {
        return new ApiException(404, "invalid_request_error", param, code, message);
    }

    static ApiException tooLarge(String param, String message) {
        return new ApiException(413, "invalid_request_error", param, "request_too_large", message);
    }

    static ApiException queueFull(String message) {
        return new ApiException(429, "rate_limit_error", null, "queue_full", message);
    }

    static ApiException loading(String message) {
        return new ApiException(503, "service_unavailable", null, "model_loading", message);
    }

    static ApiException internal(String message) {
        return new ApiException(500, "server_error", null, "internal_error", message);
    }

    int status() {
        return status;
    }

    String type() {
        return type;
    }

    String param() {
        return param;
    }

    String code() {
        return code;
    }
}
