/** {@code rg serve}: an OpenAI-compatible HTTP server over rg-core, with continuous batching and a state cache. */
module dev.rg.server {
    requires transitive dev.rg.core;
    requires com.fasterxml.jackson.databind;
    requires io.helidon.webserver;
    requires io.prometheus.metrics.core;
    requires io.prometheus.writer.text;
    requires io.prometheus.metrics.model;
    requires io.helidon.http;
    requires io.helidon.webserver.cors;
    requires java.net.http;
    // multipart/form-data uploads (POST /v1/files), read as they stream in
    requires apache.mime4j.core;

    exports dev.rg.server;
    exports dev.rg.server.bench;
}
