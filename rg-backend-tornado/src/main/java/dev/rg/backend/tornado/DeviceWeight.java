package dev.rg.backend.tornado;

import dev.rg.api.format.WeightFormat;
import dev.rg.api.tensor.HostWeight;
import dev.rg.api.tensor.Shape;
import dev.rg.api.tensor.Weight;

/**
 * A weight in the device buffers of a tornado backend.
 *
 * @param fmt   the kernel format code ({@code RgKernels.FMT_*})
 * @param group the weight group holding its elements (-1: only in {@code sf})
 * @param off   offset of its elements (in {@code sf} for {@code FMT_F32_SMALL})
 * @param sOff  offset of its scales (int8, in {@code ws}) or block absmax (4-bit, in {@code wf}); -1 if none
 * @param sfOff offset of its float32 copy in {@code sf} (dense weights up to {@code SMALL_MAX} elements), or -1
 */
record DeviceWeight(String name, Shape shape, WeightFormat format, long byteSize, int fmt, int group, int off, int sOff,
        int sfOff, TornadoBackend owner) implements Weight {

    DeviceWeight(HostWeight w, int fmt, int group, int off, int sOff, int sfOff) {
        this(w.name(), w.shape(), w.format(), w.byteSize(), fmt, group, off, sOff, sfOff, null);
    }

    DeviceWeight owned(TornadoBackend backend) {
        return new DeviceWeight(name, shape, format, byteSize, fmt, group, off, sOff, sfOff, backend);
    }

    @Override
    public String toString() {
        return "DeviceWeight[" + name + " " + shape + " " + format.name() + "]";
    }
}
