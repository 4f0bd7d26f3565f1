package dev.rg.core.safetensors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rg.api.format.RawTensor;
import dev.rg.core.io.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;

/**
 * Writes a standard safetensors file: u64-LE header length, JSON header ({@code __metadata__} first, tensors
 * sorted by name, contiguous offsets) padded with spaces to a multiple of 8, then the data. Data is streamed
 * from the tensors' segments, so writing a multi-GB file needs no heap. The file appears whole or not at all
 * ({@link AtomicFiles}); metadata keys are sorted, so the same tensors give the same bytes.
 */
public final class SafetensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SafetensorsWriter() {}

    /** Writes {@code tensors} (their {@code file} field is ignored) with {@code metadata} to {@code file}. */
    public static void write(Path file, Collection<RawTensor> tensors, Map<String, String> metadata, LongConsumer progress) {
        List<RawTensor> sorted = tensors.stream().sorted(Comparator.comparing(RawTensor::name)).toList();
        ObjectNode header = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            new java.util.TreeMap<>(metadata).forEach(meta::put); // sorted: the same input gives the same bytes
        }
        long offset = 0;
        for (RawTensor t : sorted) {
            ObjectNode o = header.putObject(t.name());
            o.put("dtype", t.dtype().safetensorsName());
            ArrayNode shape = o.putArray("shape");
            for (long d : t.shape().dims()) {
                shape.add(d);
            }
            long size = t.data().byteSize();
            if (size != t.shape().elementCount() * t.dtype().byteSize()) {
                throw new SafetensorsException("tensor '" + t.name() + "': " + size + " bytes for " + t.dtype() + " " + t.shape());
            }
            o.putArray("data_offsets").add(offset).add(offset + size);
            offset += size;
        }
        byte[] json;
        try {
            json = JSON.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new SafetensorsException("cannot encode header for " + file, e);
        }
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.position() < head.capacity()) {
            head.put((byte) ' ');
        }
        head.flip();
        try {
            AtomicFiles.write(file, tmp -> {
                try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                    while (head.hasRemaining()) {
                        ch.write(head);
                    }
                    long done = 0;
                    for (RawTensor t : sorted) {
                        ByteBuffer data = t.data().asByteBuffer();
                        while (data.hasRemaining()) {
                            ch.write(data);
                        }
                        done += t.data().byteSize();
                        progress.accept(done);
                    }
                }
            });
        } catch (UncheckedIOException e) {
            throw new SafetensorsException(e.getMessage(), e);
        }
    }
}
