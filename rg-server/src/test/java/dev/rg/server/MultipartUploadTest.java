package dev.rg.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link MultipartUpload}: the file part's bytes exactly, the text fields, and one clear 400 for what is not an upload. */
class MultipartUploadTest {
    private static final String TYPE = "multipart/form-data; boundary=XyZ-42";

    private static byte[] body(String... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String p : parts) {
            out.writeBytes(p.getBytes(StandardCharsets.ISO_8859_1));
        }
        return out.toByteArray();
    }

    private record Upload(Map<String, String> fields, String filename, byte[] file) {}

    private static Upload read(String type, byte[] body) throws IOException {
        String[] name = new String[1];
        byte[][] file = new byte[1][];
        Map<String, String> fields = MultipartUpload.read(type, new ByteArrayInputStream(body), "file", (n, in) -> {
            name[0] = n;
            file[0] = in.readAllBytes();
        });
        return new Upload(fields, name[0], file[0]);
    }

    @Test
    void theFilePartsBytesComeThroughExactly() throws IOException {
        byte[] content = new byte[100_000];
        new Random(20261207).nextBytes(content); // any bytes, CR and LF and dashes included
        String latin = new String(content, StandardCharsets.ISO_8859_1);
        Upload u = read(TYPE, body("--XyZ-42\r\nContent-Disposition: form-data; name=\"file\"; filename=\"my batch.jsonl\"\r\n",
                "Content-Type: application/octet-stream\r\n\r\n", latin, "\r\n--XyZ-42\r\n",
                "Content-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--XyZ-42--\r\n"));
        assertArrayEquals(content, u.file());
        assertEquals("my batch.jsonl", u.filename());
        assertEquals(Map.of("purpose", "batch"), u.fields());
    }

    @Test
    void whatIsNotAnUploadIsRefusedInOneLine() {
        String file = "--XyZ-42\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jsonl\"\r\n\r\n{\"a\": 1}\n";
        assertTrue(refused(TYPE, body(file)).getMessage().contains("end of stream"), "cut off before its closing boundary");
        assertEquals(400, refused("text/plain", body(file)).status(), "not multipart");
        assertEquals(400, refused("multipart/form-data", body(file)).status(), "no boundary");
        assertTrue(refused(TYPE, body("no parts at all")).getMessage().contains("not valid multipart"));
        assertTrue(refused(TYPE, body("--XyZ-42--\r\n")).getMessage().contains("no 'file' part"));
        assertTrue(refused(TYPE, body("--XyZ-42\r\nContent-Disposition: form-data\r\n\r\nx\r\n--XyZ-42--\r\n")).getMessage()
                .contains("without a form field name"));
        assertTrue(refused(TYPE, body("--XyZ-42\r\nX-Long: ", "a".repeat(20_000), "\r\nContent-Disposition: form-data;"
                + " name=\"file\"\r\n\r\nx\r\n--XyZ-42--\r\n")).getMessage().contains("header length"));
        assertTrue(refused(TYPE, body(file, "\r\n--XyZ-42\r\n", file.substring(10), "\r\n--XyZ-42--\r\n")).getMessage()
                .contains("two 'file' parts"));
        assertTrue(refused(TYPE, body("--XyZ-42\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n", "b".repeat(5000),
                "\r\n--XyZ-42--\r\n")).getMessage().contains("longer than"));
    }

    private static ApiException refused(String type, byte[] body) {
        return assertThrows(ApiException.class, () -> read(type, body));
    }
}
