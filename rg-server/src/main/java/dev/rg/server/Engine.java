package dev.rg.server;

import dev.rg.core.model.Model;
import dev.rg.core.tokenizer.GemmaTokenizer;

/** A loaded model with its tokenizer, request parser and scheduler. */
record Engine(Model model, GemmaTokenizer tokenizer, RequestParser parser, Scheduler scheduler) {}
