package dev.rg.bench.cost;

/**
 * What one benchmarked operation costs at the least: the floating-point operations it must do and the bytes
 * it must move (every weight and input read once, every output and state written once). Dividing by the
 * measured time gives GFLOP/s and GB/s; neither counts cache re-reads, so they are lower bounds of the real
 * traffic and comparable across backends.
 *
 * @param flops floating-point operations (a fused multiply-add counts 2; transcendental and other elementwise
 *              functions count 1 per element and step)
 * @param bytes bytes read plus written
 */
public record OpCost(double flops, double bytes) {
    /** Zero. */
    public static final OpCost ZERO = new OpCost(0, 0);

    /** Sum of two costs. */
    public OpCost plus(OpCost o) {
        return new OpCost(flops + o.flops, bytes + o.bytes);
    }

    /** FLOPs per byte moved. */
    public double intensity() {
        return bytes == 0 ? 0 : flops / bytes;
    }
}
