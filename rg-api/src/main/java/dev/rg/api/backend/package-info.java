/**
 * Backend SPI: {@link dev.rg.api.backend.BackendProvider} (discovery, probe, priority, capabilities),
 * {@link dev.rg.api.backend.Backend} (memory and transfers) and {@link dev.rg.api.backend.Kernels} (the ops).
 */
package dev.rg.api.backend;
