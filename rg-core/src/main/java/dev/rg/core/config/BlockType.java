package dev.rg.core.config;

/** The temporal block of a decoder layer. */
public enum BlockType {
    RECURRENT, ATTENTION
}
