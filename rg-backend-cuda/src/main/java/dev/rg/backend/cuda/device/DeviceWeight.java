package dev.rg.backend.cuda.device;

import dev.rg.api.format.WeightFormat;
import dev.rg.api.tensor.Shape;
import dev.rg.api.tensor.Weight;

/**
 * A weight copied once to device memory in its storage format: the {@code data} part, for quantised formats the
 * scale part ({@code aux}) and for 4-bit formats the 16-entry code book (float32).
 */
public final class DeviceWeight implements Weight {
    private final DeviceBackend owner;
    private final String name;
    private final Shape shape;
    private final WeightFormat format;
    private final long byteSize;
    private final WeightCodec codec;
    private final DeviceBuffer data;
    private final DeviceBuffer aux;
    private final DeviceBuffer codebook;

    DeviceWeight(DeviceBackend owner, String name, Shape shape, WeightFormat format, long byteSize, WeightCodec codec,
            DeviceBuffer data, DeviceBuffer aux, DeviceBuffer codebook) {
        this.owner = owner;
        this.name = name;
        this.shape = shape;
        this.format = format;
        this.byteSize = byteSize;
        this.codec = codec;
        this.data = data;
        this.aux = aux;
        this.codebook = codebook;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Shape shape() {
        return shape;
    }

    @Override
    public WeightFormat format() {
        return format;
    }

    @Override
    public long byteSize() {
        return byteSize;
    }

    WeightCodec codec() {
        return codec;
    }

    DeviceBackend owner() {
        return owner;
    }

    Span data() {
        return new Span(alive(data), data.bytes());
    }

    /** The scale part, or the data again for formats without one (the kernels do not read it then). */
    Span aux() {
        return aux == null ? data() : new Span(alive(aux), aux.bytes());
    }

    /** The code book, or the data again for formats without one. */
    Span codebook() {
        return codebook == null ? data() : new Span(alive(codebook), codebook.bytes());
    }

    private DeviceBuffer alive(DeviceBuffer b) {
        if (b.isFreed()) {
            throw new IllegalStateException("weight '" + name + "' used after close()");
        }
        return b;
    }

    @Override
    public void close() {
        for (DeviceBuffer b : new DeviceBuffer[] {data, aux, codebook}) {
            if (b != null) {
                owner.launcher().free(b);
            }
        }
    }

    @Override
    public String toString() {
        return "DeviceWeight[" + name + " " + shape + " " + format.name() + "]";
    }
}
