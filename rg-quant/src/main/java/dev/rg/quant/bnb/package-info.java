/**
 * The {@code bitsandbytes} checkpoint adapter: reads the 4-bit (NF4/FP4) weights that Hugging Face transformers
 * + bitsandbytes save, into the formats of {@link dev.rg.quant}.
 */
package dev.rg.quant.bnb;
