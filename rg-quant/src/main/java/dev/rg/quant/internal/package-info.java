/** Helpers of rg-quant that are not part of its API (the package is not exported). */
package dev.rg.quant.internal;
