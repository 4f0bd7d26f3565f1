package dev.rg.server;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.apache.james.mime4j.MimeException;
import org.apache.james.mime4j.stream.EntityState;
import org.apache.james.mime4j.stream.Field;
import org.apache.james.mime4j.stream.MimeConfig;
import org.apache.james.mime4j.stream.MimeTokenStream;
import org.apache.james.mime4j.stream.NameValuePair;
import org.apache.james.mime4j.stream.RawBody;
import org.apache.james.mime4j.stream.RawField;
import org.apache.james.mime4j.stream.RawFieldParser;
import org.apache.james.mime4j.stream.RecursionMode;

/**
 * A {@code multipart/form-data} upload (what OpenAI's clients send to {@code POST /v1/files}) read as it arrives with
 * Apache James mime4j's streaming parser: the small text fields are kept, and the one file part is handed to a
 * consumer as a stream, so a large file is never held in memory.
 */
final class MultipartUpload {
    /** Receives the file part's bytes. */
    interface FileConsumer {
        void accept(String filename, InputStream content) throws IOException;
    }

    /** Longest text field kept (OpenAI's fields are short words such as {@code purpose}). */
    private static final int MAX_FIELD_BYTES = 4096;

    private MultipartUpload() {}

    /**
     * Reads the parts of {@code body}: the part named {@code fileField} goes to {@code file}, every other part's text is
     * returned by name.
     *
     * @param contentType the request's {@code Content-Type}, which names the parts' boundary
     * @throws ApiException 400 when the body is not such an upload or has no (or two) file parts
     */
    static Map<String, String> read(String contentType, InputStream body, String fileField, FileConsumer file) throws IOException {
        if (contentType == null || !contentType.toLowerCase(Locale.ROOT).startsWith("multipart/form-data")
                || !contentType.toLowerCase(Locale.ROOT).contains("boundary=")) {
            throw ApiException.badRequest(null, "a file is uploaded as multipart/form-data with a boundary (fields 'file' and"
                    + " 'purpose'), got Content-Type " + (contentType == null ? "none" : "'" + contentType + "'"));
        }
        MimeConfig config = MimeConfig.custom()
                .setMaxLineLen(-1) // a part's content (a JSONL file) has lines of any length
                .setMaxHeaderLen(16 * 1024)
                .setMaxHeaderCount(64)
                .setMaxPartCount(64)
                .setMaxNestingDepth(2)
                .setStrictParsing(true) // a body that ends before its closing boundary is a cut-off upload, not a file
                .build();
        MimeTokenStream parts = new MimeTokenStream(config);
        parts.setRecursionMode(RecursionMode.M_NO_RECURSE);
        Map<String, String> fields = new HashMap<>();
        boolean sawFile = false;
        try {
            parts.parseHeadless(body, contentType);
            String name = null;
            String filename = null;
            int depth = 0;
            for (EntityState state = parts.getState(); state != EntityState.T_END_OF_STREAM; state = parts.next()) {
                switch (state) {
                    case T_START_MULTIPART -> depth++;
                    case T_END_MULTIPART -> depth--;
                    case T_START_BODYPART -> {
                        name = null;
                        filename = null;
                    }
                    case T_FIELD -> {
                        Field f = parts.getField();
                        if (f.getName().equalsIgnoreCase("Content-Disposition")) {
                            RawBody disposition = RawFieldParser.DEFAULT.parseRawBody(
                                    f instanceof RawField raw ? raw : RawFieldParser.DEFAULT.parseField(f.getRaw()));
                            for (NameValuePair p : disposition.getParams()) {
                                if (p.getName().equalsIgnoreCase("name")) {
                                    name = p.getValue();
                                } else if (p.getName().equalsIgnoreCase("filename")) {
                                    filename = p.getValue();
                                }
                            }
                        }
                    }
                    case T_BODY -> {
                        if (depth != 1 || name == null) {
                            throw ApiException.badRequest(null, "the upload has a part without a form field name"
                                    + " (Content-Disposition: form-data; name=...)");
                        }
                        if (name.equals(fileField)) {
                            if (sawFile) {
                                throw ApiException.badRequest(fileField, "the upload has two '" + fileField + "' parts; send one file");
                            }
                            sawFile = true;
                            file.accept(filename == null || filename.isBlank() ? "upload.jsonl" : filename, parts.getInputStream());
                        } else {
                            byte[] text = parts.getInputStream().readNBytes(MAX_FIELD_BYTES + 1);
                            if (text.length > MAX_FIELD_BYTES) {
                                throw ApiException.badRequest(name, "the form field '" + name + "' is longer than " + MAX_FIELD_BYTES + " bytes");
                            }
                            fields.put(name, new String(text, StandardCharsets.UTF_8).strip());
                        }
                    }
                    default -> { }
                }
            }
        } catch (org.apache.james.mime4j.MimeIOException e) {
            // a parse error met while streaming a part, such as a body cut off before its closing boundary
            throw ApiException.badRequest(null, "the upload is not valid multipart/form-data: "
                    + dev.rg.core.io.OneLine.of(String.valueOf(e.getMessage())));
        } catch (MimeException e) {
            throw ApiException.badRequest(null, "the upload is not valid multipart/form-data: "
                    + dev.rg.core.io.OneLine.of(String.valueOf(e.getMessage())));
        }
        if (!sawFile) {
            throw ApiException.badRequest(fileField, "the upload has no '" + fileField + "' part (the file's bytes)");
        }
        return fields;
    }
}
