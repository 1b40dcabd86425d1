#!/usr/bin/env python3
"""Reference fixtures for Headscope's "families exact against Hugging Face" tests.

Runs where torch + transformers are installed (the GPU machine; everything is computed on the CPU in
float32, the GPU is not needed). For each fixture it:

  1. trains a tiny real tokenizer with the `tokenizers` library on TRAIN_TEXT below and wraps it as
     transformers tokenizer files (tokenizer.json + tokenizer_config.json);
  2. builds a seeded, randomly initialised tiny model with transformers (XxxConfig + XxxForCausalLM),
     scaled/perturbed so that attention is far from uniform and logits far from constant;
  3. saves it in the Hugging Face layout (config.json, model.safetensors or shards + index,
     generation_config.json), optionally in float16/bfloat16 (the reference is then computed in float32
     from the rounded weights);
  4. writes reference.safetensors (input_ids, logits, attn.<layer>, greedy_ids) and reference.json.

It also writes reference outputs (only) for the real pretrained model babyllama-tok105, whose files are
read from --babyllama (a copy of ../shared/models/babyllama-tok105).

Usage: python3 make_fixtures.py --out DIR [--babyllama DIR] [--only name,name]
"""

import argparse
import copy
import hashlib
import json
import math
import os
import platform
import shutil
import sys
import time
import traceback
from pathlib import Path

import safetensors
import safetensors.torch
import tokenizers
import torch
import transformers
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    GPT2Config,
    GPT2LMHeadModel,
    GPTNeoXConfig,
    GPTNeoXForCausalLM,
    LlamaConfig,
    LlamaForCausalLM,
    PreTrainedTokenizerFast,
    Qwen2Config,
    Qwen2ForCausalLM,
)

# The families of issue #16 (transformers 5.x). Imported one by one so that a missing class only skips its
# own fixtures.
FAMILY_CLASSES = {}
for _n in (
    "Gemma2Config", "Gemma2ForCausalLM", "Gemma3TextConfig", "Gemma3ForCausalLM", "Gemma3Config",
    "Gemma3ForConditionalGeneration", "SiglipVisionConfig", "Qwen3Config", "Qwen3ForCausalLM", "Olmo2Config",
    "Olmo2ForCausalLM", "SmolLM3Config", "SmolLM3ForCausalLM",
):
    FAMILY_CLASSES[_n] = getattr(transformers, _n, None)


def family_cls(name):
    c = FAMILY_CLASSES.get(name)
    if c is None:
        raise RuntimeError(f"transformers {transformers.__version__} has no {name}")
    return c

T0 = time.time()
N_NEW = 20  # greedy continuation length
INIT = 0.15  # initializer_range for every synthetic model
MIN_MARGIN = 0.005  # wanted top1-top2 logit gap at every greedy step (seeds are retried to reach it)
SEED_TRIES = 10

# Training text for the tokenizers, written for this project.
TRAIN_TEXT = """\
The old keeper lived in the small house at the end of the harbour wall.
Every evening he climbed the stairs of the lighthouse and lit the lamp before the sun went down.
From the top he watched the small boats come home before the storm, one after another.
The children of the village ran to the harbour when the bell rang, and they waited on the stones.
Their mothers came with lanterns, and their fathers pulled the boats up onto the sand.
When the wind was strong the keeper closed the shutters and listened to the rain on the roof.
He wrote the weather in a thick book: the wind, the clouds, the height of the waves, the time of the tide.
Some nights the sea was calm and the stars were bright, and the lamp turned slowly above the water.
Other nights the storm came early, the rain was cold, and the boats were late.
Then the keeper stood by the window and counted the lights on the water, one, two, three, four.
In the morning the harbour was quiet again. The fishermen mended their nets and sold their fish.
The baker opened his shop, the teacher rang the school bell, and the children walked to school.
A quiet river runs past the mill where the children play in the summer.
The miller's daughter keeps a garden of beans, onions and tall yellow flowers beside the river.
She opened the window and listened to the rain, and she thought about the boats on the sea.
Her brother wanted to be a keeper like the old man, and he asked him many questions.
How does the lamp turn? Why is the light so bright? What happens when the storm is very strong?
The old keeper answered every question with patience, and he showed the boy the book of the weather.
They climbed the stairs together, and the boy watched the small boats come home before the storm.
Years later the boy became the keeper, and he wrote in the same book every evening.
The house at the end of the harbour wall is still there, and the lamp still turns above the water.
People who visit the village walk along the wall, look at the lighthouse and listen to the sea.
Sometimes they ask the keeper about the old man, and he tells them the story of the storm.
The story is always the same: the wind, the rain, the bell, the lanterns, and the boats coming home.
"""
TRAIN_LINES = [line for line in TRAIN_TEXT.splitlines() if line.strip()]

PROMPTS = [
    "The old keeper watched the small boats come home before the storm.",
    "The keeper watched the boats come home before the storm.",
    "The children ran to the harbour when the bell rang.",
    "The keeper lit the lamp before the storm came.",
    "The keeper lit the lamp.",
]
BABYLLAMA_PROMPT = "Once upon a time, there was a little girl named Lily. She loved to play outside."

# A GPT-4/Qwen2-style split pattern (contractions, letters, single digits, punctuation, whitespace).
QWEN_SPLIT = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""


def log(*a):
    print(f"[{time.time() - T0:6.1f}s]", *a, flush=True)


# --------------------------------------------------------------------------------------------- tokenizers


def build_tokenizer(kind, vocab_size):
    """Train a tiny tokenizer. Returns (Tokenizer, meta) where meta names special tokens and the style."""
    if kind in ("gpt2", "neox", "llama3", "qwen2"):  # byte-level BPE
        specials = {
            "gpt2": ["<|endoftext|>"],
            "neox": ["<|endoftext|>", "<|padding|>"],
            "llama3": ["<|begin_of_text|>", "<|end_of_text|>"],
            "qwen2": ["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        }[kind]
        tok = Tokenizer(models.BPE())
        if kind == "qwen2":
            tok.normalizer = normalizers.NFC()
            tok.pre_tokenizer = pre_tokenizers.Sequence(
                [
                    pre_tokenizers.Split(Regex(QWEN_SPLIT), behavior="isolated", invert=False),
                    pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
                ]
            )
        else:
            tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size,
            min_frequency=2,
            special_tokens=specials,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        )
        tok.train_from_iterator(TRAIN_LINES, trainer=trainer)
        if kind == "llama3":
            bos = "<|begin_of_text|>"
            bos_id = tok.token_to_id(bos)
            tok.post_processor = processors.Sequence(
                [
                    processors.ByteLevel(trim_offsets=False),
                    processors.TemplateProcessing(
                        single=f"{bos}:0 $A:0", pair=f"{bos}:0 $A:0 {bos}:1 $B:1", special_tokens=[(bos, bos_id)]
                    ),
                ]
            )
            meta = dict(bos_token=bos, eos_token="<|end_of_text|>", unk_token=None, pad_token=None, adds_bos=True)
            style = "byte-level BPE (GPT-2 regex), post-processor Sequence[ByteLevel, TemplateProcessing adding BOS] (Llama-3 style)"
        else:
            tok.post_processor = processors.ByteLevel(trim_offsets=False)
            eot = "<|endoftext|>"
            if kind == "gpt2":
                meta = dict(bos_token=eot, eos_token=eot, unk_token=eot, pad_token=None, adds_bos=False)
                style = "byte-level BPE (GPT-2 regex), no BOS (GPT-2 style)"
            elif kind == "neox":
                meta = dict(bos_token=eot, eos_token=eot, unk_token=eot, pad_token="<|padding|>", adds_bos=False)
                style = "byte-level BPE (GPT-2 regex), no BOS (Pythia/GPT-NeoX style)"
            else:
                meta = dict(bos_token=None, eos_token=eot, unk_token=None, pad_token=eot, adds_bos=False)
                style = "NFC + Split(Qwen2 regex) + byte-level BPE, no BOS (Qwen2 style)"
    elif kind == "spm":  # SentencePiece-like BPE over Metaspace, <unk>/<s>/</s>, BOS added (Llama-2 style)
        tok = Tokenizer(models.BPE(unk_token="<unk>", fuse_unk=True, byte_fallback=False))
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="first", split=True)
        tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="first", split=True)
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size, min_frequency=2, special_tokens=["<unk>", "<s>", "</s>"], show_progress=False
        )
        tok.train_from_iterator(TRAIN_LINES, trainer=trainer)
        bos_id = tok.token_to_id("<s>")
        tok.post_processor = processors.TemplateProcessing(
            single="<s>:0 $A:0", pair="<s>:0 $A:0 <s>:1 $B:1", special_tokens=[("<s>", bos_id)]
        )
        meta = dict(bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token=None, adds_bos=True)
        style = "Metaspace BPE (SentencePiece-like, <unk>/<s>/</s>), TemplateProcessing adds <s> (Llama-2 style)"
    else:
        raise ValueError(kind)
    meta["style"] = style
    meta["kind"] = kind
    return tok, meta


def save_tokenizer(tok, meta, d, ctx):
    kw = {k: meta[k] for k in ("bos_token", "eos_token", "unk_token", "pad_token") if meta[k] is not None}
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, model_max_length=ctx, **kw)
    fast.save_pretrained(str(d))
    return Tokenizer.from_file(str(d / "tokenizer.json"))  # the saved file is the ground truth


def special_ids(tok, meta):
    out = {}
    for k in ("bos_token", "eos_token", "unk_token", "pad_token"):
        out[k.replace("_token", "")] = tok.token_to_id(meta[k]) if meta[k] is not None else None
    return out


def pick_prompt(tok, meta, candidates):
    unk = tok.token_to_id(meta["unk_token"]) if meta["kind"] == "spm" else None
    tried = []
    for p in candidates:
        enc = tok.encode(p)
        tried.append((p, len(enc.ids)))
        if 12 <= len(enc.ids) <= 24 and (unk is None or unk not in enc.ids):
            return p, enc
    raise RuntimeError(f"no prompt gives 12..24 tokens: {tried}")


# --------------------------------------------------------------------------------------------- models


def cfg_gpt2(V, sp, n_embd=64, n_layer=2, n_head=4, n_positions=128):
    return GPT2Config(
        vocab_size=V,
        n_positions=n_positions,
        n_embd=n_embd,
        n_layer=n_layer,
        n_head=n_head,
        activation_function="gelu_new",
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        layer_norm_epsilon=1e-5,
        initializer_range=INIT,
        bos_token_id=sp["eos"],
        eos_token_id=sp["eos"],
        tie_word_embeddings=True,
        attn_implementation="eager",
    )


def cfg_neox(V, sp, parallel, rotary_pct, hidden=64, layers=2, heads=4, inter=256):
    return GPTNeoXConfig(
        vocab_size=V,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=inter,
        hidden_act="gelu",
        max_position_embeddings=128,
        layer_norm_eps=1e-5,
        initializer_range=INIT,
        bos_token_id=sp["bos"],
        eos_token_id=sp["eos"],
        tie_word_embeddings=False,
        use_parallel_residual=parallel,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "partial_rotary_factor": float(rotary_pct)},
        attention_dropout=0.0,
        hidden_dropout=0.0,
        attn_implementation="eager",
    )


def cfg_llama(V, sp, rope, heads=4, kv=2, hidden=64, layers=2, inter=128, tied=False, head_dim=None):
    kw = dict(head_dim=head_dim) if head_dim is not None else {}
    return LlamaConfig(
        vocab_size=V,
        hidden_size=hidden,
        intermediate_size=inter,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv,
        hidden_act="silu",
        max_position_embeddings=128,
        initializer_range=INIT,
        rms_norm_eps=1e-5,
        bos_token_id=sp["bos"],
        eos_token_id=sp["eos"],
        tie_word_embeddings=tied,
        rope_parameters=rope,
        attention_bias=False,
        mlp_bias=False,
        attn_implementation="eager",
        **kw,
    )


def cfg_qwen2(V, sp):
    return Qwen2Config(
        vocab_size=V,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        hidden_act="silu",
        max_position_embeddings=128,
        initializer_range=INIT,
        rms_norm_eps=1e-6,
        tie_word_embeddings=True,
        rope_parameters={"rope_type": "default", "rope_theta": 1000000.0},
        use_sliding_window=False,
        bos_token_id=None,
        eos_token_id=sp["eos"],
        attn_implementation="eager",
    )


# ---- issue #16 families: tiny (hidden 32) so that the six fixtures stay well under 1.5 MB together.


def gemma_common(V, sp, layer_types, window, head_dim=16):
    return dict(
        vocab_size=V,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=len(layer_types),
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=head_dim,
        hidden_activation="gelu_pytorch_tanh",
        max_position_embeddings=128,
        initializer_range=INIT,
        rms_norm_eps=1e-6,
        pad_token_id=sp["pad"] if sp["pad"] is not None else sp["unk"],
        bos_token_id=sp["bos"],
        eos_token_id=sp["eos"],
        tie_word_embeddings=True,
        attention_bias=False,
        query_pre_attn_scalar=24,  # != head_dim: the score scale is 24^-0.5, not head_dim^-0.5
        sliding_window=window,
        layer_types=layer_types,
    )


def cfg_gemma2(V, sp):
    return family_cls("Gemma2Config")(
        **gemma_common(V, sp, ["sliding_attention", "full_attention"], 5),
        # Small caps so that tanh bends the scores and logits a lot (the released models use 50 and 30).
        attn_logit_softcapping=2.0,
        final_logit_softcapping=6.0,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
        attn_implementation="eager",
    )


GEMMA3_ROPE = {
    "full_attention": {"rope_type": "default", "rope_theta": 1000000.0},
    "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0},
}


def cfg_gemma3_text(V, sp):
    return family_cls("Gemma3TextConfig")(
        **gemma_common(V, sp, ["sliding_attention", "sliding_attention", "full_attention"], 4),
        rope_parameters=copy.deepcopy(GEMMA3_ROPE),
        attn_implementation="eager",
    )


def cfg_gemma3_nested(V, sp):
    text = gemma_common(V, sp, ["sliding_attention", "full_attention"], 6)
    rope = copy.deepcopy(GEMMA3_ROPE)
    rope["full_attention"] = {"rope_type": "linear", "factor": 2.0, "rope_theta": 1000000.0}  # as gemma-3-4b
    text["rope_parameters"] = rope
    vision = dict(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2, image_size=16,
                  patch_size=8, num_channels=3)
    return family_cls("Gemma3Config")(
        text_config=text,
        vision_config=vision,
        mm_tokens_per_image=1,
        image_token_index=V + 10,  # outside the text vocabulary: no prompt or greedy token is an image slot
        initializer_range=INIT,
        tie_word_embeddings=True,
        attn_implementation="eager",
    )


def cfg_qwen3(V, sp):
    return family_cls("Qwen3Config")(
        vocab_size=V,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=16,
        hidden_act="silu",
        max_position_embeddings=128,
        initializer_range=INIT,
        rms_norm_eps=1e-6,
        tie_word_embeddings=True,
        attention_bias=False,
        use_sliding_window=False,
        rope_parameters={"rope_type": "default", "rope_theta": 1000000.0},
        bos_token_id=None,
        eos_token_id=sp["eos"],
        attn_implementation="eager",
    )


def cfg_olmo2(V, sp):
    return family_cls("Olmo2Config")(
        vocab_size=V,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        hidden_act="silu",
        max_position_embeddings=128,
        initializer_range=INIT,
        rms_norm_eps=1e-6,
        tie_word_embeddings=False,
        attention_bias=False,
        rope_parameters={"rope_type": "default", "rope_theta": 500000.0},
        pad_token_id=sp["pad"],
        bos_token_id=sp["bos"],
        eos_token_id=sp["eos"],
        attn_implementation="eager",
    )


def cfg_smollm3(V, sp):
    return family_cls("SmolLM3Config")(
        vocab_size=V,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=3,
        num_attention_heads=4,
        num_key_value_heads=2,
        hidden_act="silu",
        max_position_embeddings=128,
        initializer_range=INIT,
        rms_norm_eps=1e-6,
        tie_word_embeddings=True,
        attention_bias=False,
        mlp_bias=False,
        use_sliding_window=False,
        no_rope_layers=[1, 1, 0],  # 1 = rotary, 0 = NoPE (the released model drops it on every 4th layer)
        no_rope_layer_interval=3,
        rope_parameters={"rope_type": "default", "rope_theta": 50000.0},
        pad_token_id=None,
        bos_token_id=None,
        eos_token_id=sp["eos"],
        attn_implementation="eager",
    )


FIXTURES = [
    dict(
        name="gpt2",
        about="GPT-2: learned positions, LayerNorm, gelu_new, Conv1D weights, tied embeddings, 4 heads",
        tok="gpt2", vocab=480, cls=GPT2LMHeadModel, cfg=lambda V, sp: cfg_gpt2(V, sp),
        dtype="float32", seed=1001,
    ),
    dict(
        name="gpt_neox",
        about="GPT-NeoX/Pythia style: parallel residual, rotary on 25% of head dims, untied embed_out, vocab padded "
        "to a multiple of 128 beyond the tokenizer (padded rows scaled by 0.05); legacy (4.x) config keys",
        tok="neox", vocab=448, pad_vocab=True, cls=GPTNeoXForCausalLM,
        cfg=lambda V, sp: cfg_neox(V, sp, True, 0.25), dtype="float32", seed=2001, legacy="gpt_neox",
    ),
    dict(
        name="gpt_neox_seq",
        about="GPT-NeoX with sequential residual (use_parallel_residual false), full rotary (rotary_pct 1.0), "
        "d_model 48, 3 layers",
        tok="neox", vocab=448, cls=GPTNeoXForCausalLM,
        cfg=lambda V, sp: cfg_neox(V, sp, False, 1.0, hidden=48, layers=3, inter=192), dtype="float32", seed=3001,
    ),
    dict(
        name="llama_gqa",
        about="Llama: RMSNorm, SwiGLU, rotary (theta 1e4), GQA 4 query / 2 KV heads, untied lm_head, 3 layers; "
        "SentencePiece-like tokenizer that prepends <s>",
        tok="spm", vocab=320, cls=LlamaForCausalLM,
        cfg=lambda V, sp: cfg_llama(V, sp, {"rope_type": "default", "rope_theta": 10000.0}, layers=3),
        dtype="float32", seed=4001,
    ),
    dict(
        name="llama3_rope",
        about="Llama with llama3 rope scaling (factor 8, low 1, high 4, original 32), tied embeddings, "
        "1 KV head (MQA), head_dim 24 != hidden/heads 16; legacy (4.x) config keys (rope_theta + rope_scaling)",
        tok="llama3", vocab=480, cls=LlamaForCausalLM,
        cfg=lambda V, sp: cfg_llama(
            V, sp,
            {"rope_type": "llama3", "rope_theta": 10000.0, "factor": 8.0, "low_freq_factor": 1.0,
             "high_freq_factor": 4.0, "original_max_position_embeddings": 32},
            heads=4, kv=1, tied=True, head_dim=24,
        ),
        dtype="float32", seed=5001, legacy="llama",
    ),
    dict(
        name="llama_linear_rope",
        about="Llama with linear rope scaling (factor 2), MHA (4/4 heads), d_model 48; weights stored as float16, "
        "reference computed in float32 from the fp16-rounded weights",
        tok="spm", vocab=320, cls=LlamaForCausalLM,
        cfg=lambda V, sp: cfg_llama(
            V, sp, {"rope_type": "linear", "rope_theta": 10000.0, "factor": 2.0}, heads=4, kv=4, hidden=48, inter=128
        ),
        dtype="float16", seed=6001,
    ),
    dict(
        name="qwen2",
        about="Qwen2: q/k/v biases, GQA 4/2, tied embeddings, rope theta 1e6; weights stored as bfloat16, reference "
        "computed in float32 from the bf16-rounded weights; legacy (4.x) config keys",
        tok="qwen2", vocab=480, cls=Qwen2ForCausalLM, cfg=lambda V, sp: cfg_qwen2(V, sp),
        dtype="bfloat16", seed=7001, legacy="llama",
    ),
    dict(
        name="gpt2_sharded",
        about="GPT-2 (d_model 48, 3 layers, context 64) saved as 2 safetensors shards + model.safetensors.index.json",
        tok="gpt2", vocab=480, cls=GPT2LMHeadModel,
        cfg=lambda V, sp: cfg_gpt2(V, sp, n_embd=48, n_layer=3, n_head=4, n_positions=64),
        dtype="float32", seed=8001, shards=2,
    ),
    dict(
        name="gemma3_text",
        about="Gemma 3 (text): RMSNorm (1 + w), sqrt(d_model) embedding scale, norms before and after each sublayer, "
        "per-head q/k RMSNorm, head_dim 16 != 32/4, query_pre_attn_scalar 24, GQA 4/2, GELU-tanh gated MLP, tied; "
        "layers sliding(4), sliding(4), full with their own rope bases (1e4 local, 1e6 global); prompt longer than the "
        "window; weights in bfloat16",
        tok="spm", vocab=320, cls=lambda c: family_cls("Gemma3ForCausalLM")(c), cfg=cfg_gemma3_text,
        dtype="bfloat16", seed=9001,
    ),
    dict(
        name="gemma3_nested",
        about="Gemma 3 multimodal checkpoint (model_type gemma3, text config nested in text_config, a tiny SigLIP "
        "vision tower beside it): layers sliding(6), full; linear rope scaling (factor 2) on the global layer only; "
        "legacy text_config keys (rope_theta, rope_local_base_freq, rope_scaling, sliding_window_pattern)",
        tok="spm", vocab=320, cls=lambda c: family_cls("Gemma3ForConditionalGeneration")(c), cfg=cfg_gemma3_nested,
        dtype="float32", seed=9101, legacy="gemma3_nested",
    ),
    dict(
        name="gemma2",
        about="Gemma 2: attention-logit soft-capping 2.0 (before softmax, captured maps are the capped ones) and final "
        "soft-capping 6.0, layers sliding(5), full, norms before and after each sublayer, RMSNorm (1 + w), sqrt(d_model) "
        "embedding scale, head_dim 16, query_pre_attn_scalar 24, GELU-tanh gated MLP, tied",
        tok="spm", vocab=320, cls=lambda c: family_cls("Gemma2ForCausalLM")(c), cfg=cfg_gemma2,
        dtype="float32", seed=9201,
    ),
    dict(
        name="qwen3",
        about="Qwen3: per-head q/k RMSNorm before rope, explicit head_dim 16 != 32/4, GQA 4/2, no biases, tied, rope "
        "theta 1e6; weights in bfloat16",
        tok="qwen2", vocab=320, cls=lambda c: family_cls("Qwen3ForCausalLM")(c), cfg=cfg_qwen3,
        dtype="bfloat16", seed=9301,
    ),
    dict(
        name="olmo2",
        about="OLMo 2: no pre-norms, RMSNorm after the attention and MLP sublayers, q/k RMSNorm over the whole "
        "projection (all heads), GQA 4/2, untied, rope theta 5e5",
        tok="neox", vocab=320, cls=lambda c: family_cls("Olmo2ForCausalLM")(c), cfg=cfg_olmo2,
        dtype="float32", seed=9401,
    ),
    dict(
        name="smollm3",
        about="SmolLM3: Llama layout with rope switched off on layer 2 (no_rope_layers [1, 1, 0], NoPE), GQA 4/2, tied",
        tok="gpt2", vocab=320, cls=lambda c: family_cls("SmolLM3ForCausalLM")(c), cfg=cfg_smollm3,
        dtype="float32", seed=9501,
    ),
]

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def ensure_eager(model):
    if getattr(model.config, "_attn_implementation", None) != "eager":
        if hasattr(model, "set_attn_implementation"):
            model.set_attn_implementation("eager")
        else:
            model.config._attn_implementation = "eager"
    assert model.config._attn_implementation == "eager", model.config._attn_implementation


@torch.no_grad()
def perturb(model, seed):
    """Move norm weights away from 1 and zero biases away from 0 (init leaves them constant)."""
    g = torch.Generator().manual_seed(seed * 7 + 3)
    touched = []
    for name, p in model.named_parameters():
        if p.ndim != 1:
            continue
        if torch.all(p == 1):
            p.copy_(1.0 + 0.25 * torch.randn(p.shape, generator=g))
            touched.append(name)
        elif torch.all(p == 0):
            p.copy_(0.1 * torch.randn(p.shape, generator=g))
            touched.append(name)
    return touched


@torch.no_grad()
def round_params(model, dt):
    if dt == torch.float32:
        return
    for p in model.parameters():
        p.copy_(p.to(dt).to(torch.float32))


@torch.no_grad()
def forward(model, ids):
    out = model(input_ids=torch.tensor([ids]), output_attentions=True)
    logits = out.logits[0].float().contiguous()
    attns = [a[0].float().contiguous() for a in out.attentions]
    return logits, attns


@torch.no_grad()
def manual_greedy(model, ids, n):
    """Greedy continuation by full recomputation at every step (no cache); also the top1-top2 margins."""
    seq = list(ids)
    margins = []
    for _ in range(n):
        last = model(input_ids=torch.tensor([seq])).logits[0, -1].double()
        top = torch.topk(last, 2)
        margins.append(float(top.values[0] - top.values[1]))
        seq.append(int(top.indices[0]))
    return seq[len(ids):], margins


def hf_generate(model, ids, n, use_cache, pad_id):
    # eos disabled so that exactly n tokens come out (set on the model's own generation config, as a value
    # passed to generate() that equals the library default may be replaced by the model's).
    model.generation_config.eos_token_id = None
    for c in {id(model.config): model.config, id(text_config(model.config)): text_config(model.config)}.values():
        if hasattr(c, "eos_token_id"):
            c.eos_token_id = None
    x = torch.tensor([ids])
    out = model.generate(
        input_ids=x,
        attention_mask=torch.ones_like(x),
        do_sample=False,
        max_new_tokens=n,
        use_cache=use_cache,
        pad_token_id=pad_id,
    )
    return out[0, len(ids):].tolist()


def attn_stats(attns):
    """Per layer: mean normalised row entropy (1 = uniform over the causal prefix) and mean row max."""
    res = []
    for a in attns:
        H, T, _ = a.shape
        ents, maxs = [], []
        for t in range(1, T):
            p = a[:, t, : t + 1].double().clamp_min(1e-30)
            ents.append(float((-(p * p.log()).sum(-1) / math.log(t + 1)).mean()))
            maxs.append(float(a[:, t, : t + 1].max(-1).values.mean()))
        res.append({"mean_norm_entropy": round(sum(ents) / len(ents), 4), "mean_row_max": round(sum(maxs) / len(maxs), 4)})
    return res


def max_abs(a, b):
    return float((a.double() - b.double()).abs().max())


def manual_two_shards(d):
    """Rewrite whatever save_pretrained wrote into exactly two shards + index (fallback)."""
    tensors = {}
    for f in sorted(d.glob("model*.safetensors")):
        tensors.update(safetensors.torch.load_file(str(f)))
        f.unlink()
    idx = d / "model.safetensors.index.json"
    if idx.exists():
        idx.unlink()
    names = list(tensors.keys())
    total = sum(t.numel() * t.element_size() for t in tensors.values())
    acc, cut = 0, len(names)
    for i, k in enumerate(names):
        if acc >= total / 2:
            cut = i
            break
        acc += tensors[k].numel() * tensors[k].element_size()
    parts = [names[:cut], names[cut:]]
    weight_map = {}
    for si, part in enumerate(parts):
        fname = f"model-{si + 1:05d}-of-00002.safetensors"
        safetensors.torch.save_file({k: tensors[k].contiguous() for k in part}, str(d / fname), metadata={"format": "pt"})
        for k in part:
            weight_map[k] = fname
    with open(idx, "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}, f, indent=2)


def save_model(model, d, dt, shards):
    to_save = model
    if dt != torch.float32:
        to_save = copy.deepcopy(model).to(dt)
    note = "save_pretrained"
    if shards == 2:
        unique_bytes = sum(p.numel() * p.element_size() for p in to_save.parameters())
        try:
            to_save.save_pretrained(str(d), max_shard_size=int(unique_bytes * 0.6))
        except TypeError as e:
            log("  save_pretrained(max_shard_size=...) refused:", e)
            to_save.save_pretrained(str(d))
        n = len(list(d.glob("model-*-of-*.safetensors")))
        if n != 2 or not (d / "model.safetensors.index.json").exists():
            log(f"  save_pretrained gave {n} shards; re-sharding into 2 by hand")
            manual_two_shards(d)
            note = "save_pretrained, then re-sharded into 2 files by make_fixtures.py"
        else:
            note = "save_pretrained(max_shard_size=...)"
    else:
        to_save.save_pretrained(str(d))
    return note


def rewrite_legacy_config(d, legacy):
    """Rewrite config.json with the pre-5.0 key names that hub checkpoints carry."""
    p = d / "config.json"
    cfg = json.loads(p.read_text())
    original = copy.deepcopy(cfg)
    rp = cfg.pop("rope_parameters", None) or {}
    if "dtype" in cfg:
        cfg["torch_dtype"] = cfg.pop("dtype")
    if legacy == "gpt_neox":
        cfg["rotary_pct"] = rp.get("partial_rotary_factor", 1.0)
        cfg["rotary_emb_base"] = rp.get("rope_theta", 10000.0)
    elif legacy == "gemma3_nested":
        # gemma-3-4b-style text_config as the hub carries it: rope_theta (global), rope_local_base_freq, rope_scaling
        # (global only) and sliding_window_pattern instead of rope_parameters and layer_types.
        tc = cfg["text_config"]
        trp = tc.pop("rope_parameters")
        full, sliding = dict(trp["full_attention"]), dict(trp["sliding_attention"])
        tc["rope_theta"] = full.pop("rope_theta")
        tc["rope_local_base_freq"] = sliding["rope_theta"]
        tc["rope_scaling"] = full if full.get("rope_type", "default") != "default" else None
        types = tc.pop("layer_types")
        pattern = types.index("full_attention") + 1
        assert all((t == "full_attention") == ((i + 1) % pattern == 0) for i, t in enumerate(types)), types
        tc["sliding_window_pattern"] = pattern
        if "dtype" in tc:
            tc["torch_dtype"] = tc.pop("dtype")
    elif legacy == "llama":
        cfg["rope_theta"] = rp.get("rope_theta", 10000.0)
        scaling = {k: v for k, v in rp.items() if k != "rope_theta"}
        if scaling.get("rope_type", "default") == "default" and set(scaling) <= {"rope_type"}:
            scaling = None
        cfg["rope_scaling"] = scaling
    p.write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")
    return original


def reload_check(d, ids, logits, attns, cls=None):
    try:
        m = AutoModelForCausalLM.from_pretrained(str(d), dtype=torch.float32, attn_implementation="eager")
    except Exception as e:
        if cls is None:
            raise
        log("  AutoModelForCausalLM refused the files, reloading with", cls.__name__, repr(e)[:200])
        m = cls.from_pretrained(str(d), dtype=torch.float32, attn_implementation="eager")
    m.eval()
    ensure_eager(m)
    l2, a2 = forward(m, ids)
    return {
        "logits_max_abs_diff": max_abs(l2, logits),
        "attn_max_abs_diff": max(max_abs(x, y) for x, y in zip(a2, attns)),
        "class": type(m).__name__,
    }, m


def fp64_check(model, ids, logits, attns):
    m64 = copy.deepcopy(model).to(torch.float64)
    l2, a2 = forward(m64, ids)
    return {
        "logits_max_abs_diff": max_abs(l2, logits),
        "attn_max_abs_diff": max(max_abs(x, y) for x, y in zip(a2, attns)),
        "note": "same model cast to float64 (softmax in some eager kernels still runs in float32)",
    }


def versions():
    return {
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "tokenizers": tokenizers.__version__,
        "safetensors": safetensors.__version__,
        "python": platform.python_version(),
    }


def write_reference(d, ids, logits, attns, greedy, meta):
    tensors = {
        "input_ids": torch.tensor(ids, dtype=torch.int32),
        "logits": logits.contiguous(),
        "greedy_ids": torch.tensor(greedy, dtype=torch.int32),
    }
    for i, a in enumerate(attns):
        tensors[f"attn.{i}"] = a.contiguous()
    safetensors.torch.save_file(tensors, str(d / "reference.safetensors"), metadata={"format": "pt", "fixture": meta["name"]})
    (d / "reference.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")


def text_config(cfg):
    """The decoder's config: itself, or the nested text_config of a multimodal checkpoint (gemma3)."""
    sub = getattr(cfg, "text_config", None)
    return sub if sub is not None else cfg


def model_dims(cfg):
    top_type = cfg.model_type
    cfg = text_config(cfg)
    g = lambda *ks: next((getattr(cfg, k) for k in ks if getattr(cfg, k, None) is not None), None)  # noqa: E731
    heads = g("num_attention_heads", "n_head")
    hidden = g("hidden_size", "n_embd")
    return {
        "model_type": top_type,
        "text_model_type": cfg.model_type,
        "layer_types": getattr(cfg, "layer_types", None),
        "sliding_window": getattr(cfg, "sliding_window", None),
        "attn_logit_softcapping": getattr(cfg, "attn_logit_softcapping", None),
        "final_logit_softcapping": getattr(cfg, "final_logit_softcapping", None),
        "query_pre_attn_scalar": getattr(cfg, "query_pre_attn_scalar", None),
        "no_rope_layers": getattr(cfg, "no_rope_layers", None),
        "vocab_size": cfg.vocab_size,
        "hidden_size": hidden,
        "num_layers": g("num_hidden_layers", "n_layer"),
        "num_heads": heads,
        "num_kv_heads": g("num_key_value_heads") or heads,
        "head_dim": g("head_dim") or hidden // heads,
        "max_position_embeddings": g("max_position_embeddings", "n_positions"),
        "tie_word_embeddings": bool(getattr(cfg, "tie_word_embeddings", False)),
        "rope_parameters": getattr(cfg, "rope_parameters", None),
    }


def rotary_info(model):
    # One `inv_freq`, or one per layer type (`sliding_attention_inv_freq`, … in Gemma 3).
    found = {}
    for name, buf in model.named_buffers():
        if name.endswith("inv_freq") and "vision" not in name:
            key = name.rsplit(".", 1)[-1]
            found.setdefault(key, [float(x) for x in buf.flatten().tolist()])
    for mod in model.modules():
        if hasattr(mod, "inv_freq") and isinstance(mod.inv_freq, torch.Tensor) and "inv_freq" not in found:
            found["inv_freq"] = [float(x) for x in mod.inv_freq.tolist()]
    if not found:
        return None
    if set(found) == {"inv_freq"}:
        return {"inv_freq_len": len(found["inv_freq"]), "inv_freq": found["inv_freq"]}
    return {k: {"inv_freq_len": len(v), "inv_freq": v} for k, v in sorted(found.items())}


# --------------------------------------------------------------------------------------------- fixtures


def make_fixture(spec, out_root):
    name = spec["name"]
    d = out_root / name
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    log(f"== {name}")

    tok_trained, tmeta = build_tokenizer(spec["tok"], spec["vocab"])
    n_tok = tok_trained.get_vocab_size()
    V = n_tok
    if spec.get("pad_vocab"):
        V = ((n_tok + 127) // 128) * 128
    sp = special_ids(tok_trained, tmeta)

    # Seeds are retried until every greedy step has a clear winner (no near-ties to trip other implementations).
    best = None
    for attempt in range(SEED_TRIES):
        seed = spec["seed"] + attempt
        cfg = spec["cfg"](V, sp)
        tcfg = text_config(cfg)
        ctx = getattr(tcfg, "max_position_embeddings", None) or getattr(tcfg, "n_positions")
        if attempt == 0:
            tok = save_tokenizer(tok_trained, tmeta, d, ctx)
            prompt, enc = pick_prompt(tok, tmeta, PROMPTS)
            ids = list(enc.ids)
        torch.manual_seed(seed)
        model = spec["cls"](cfg)
        model.eval()
        ensure_eager(model)
        touched = perturb(model, seed)
        if V > n_tok:
            with torch.no_grad():
                model.get_output_embeddings().weight[n_tok:] *= 0.05
        round_params(model, DTYPES[spec["dtype"]])
        greedy, margins = manual_greedy(model, ids, N_NEW)
        mm = min(margins)
        log(f"  seed {seed}: min greedy margin {mm:.4g}")
        if best is None or mm > best[2]:
            best = (seed, model, mm, greedy, margins, touched)
        if mm >= MIN_MARGIN:
            break
    seed, model, mm, greedy_manual, margins, touched = best
    cfg = model.config

    note = save_model(model, d, DTYPES[spec["dtype"]], spec.get("shards", 1))
    config_style = "transformers-5 (rope_parameters, dtype)"
    original_cfg = None
    if spec.get("legacy"):
        original_cfg = rewrite_legacy_config(d, spec["legacy"])
        config_style = "legacy 4.x keys (" + {
            "gpt_neox": "rotary_pct, rotary_emb_base",
            "gemma3_nested": "text_config: rope_theta, rope_local_base_freq, rope_scaling, sliding_window_pattern",
        }.get(spec["legacy"], "rope_theta, rope_scaling") + ", torch_dtype)"

    logits, attns = forward(model, ids)
    T, Vl = logits.shape
    assert Vl == V and T == len(ids), (logits.shape, V, len(ids))

    try:
        reload, reloaded = reload_check(d, ids, logits, attns, type(model))
        reload["rope_parameters_reloaded"] = getattr(text_config(reloaded.config), "rope_parameters", None)
        reload["rope_parameters_match"] = reload["rope_parameters_reloaded"] == getattr(text_config(cfg), "rope_parameters", None)
    except Exception as e:  # a legacy config that does not reload: fall back to the 5.x file
        if original_cfg is None:
            raise
        log("  legacy config failed to reload, keeping the transformers-5 config:", repr(e))
        (d / "config.json").write_text(json.dumps(original_cfg, indent=2, sort_keys=True) + "\n")
        config_style = "transformers-5 (legacy rewrite failed to reload: " + repr(e)[:200] + ")"
        reload, reloaded = reload_check(d, ids, logits, attns, type(model))
    log(f"  reload from files: {reload['logits_max_abs_diff']:.3g} / {reload['attn_max_abs_diff']:.3g}")
    try:
        f64 = fp64_check(model, ids, logits, attns)
    except Exception as e:
        f64 = {"error": repr(e)}

    gen = {}
    for use_cache in (True, False):
        key = "use_cache_true" if use_cache else "use_cache_false"
        try:
            gen[key] = hf_generate(model, ids, N_NEW, use_cache, sp["pad"] if sp["pad"] is not None else 0)
        except Exception as e:
            traceback.print_exc()
            gen[key] = "error: " + repr(e)
    g_cache, g_nocache = gen["use_cache_true"], gen["use_cache_false"]
    ok_cache = isinstance(g_cache, list) and len(g_cache) == N_NEW
    greedy = g_cache if ok_cache else greedy_manual
    kv_eq = ok_cache and g_cache == g_nocache
    log(f"  generate cache==nocache: {kv_eq}; == manual: {g_cache == greedy_manual}")
    if not kv_eq:
        log("  WARNING: KV-cache greedy ids differ from no-cache ones", g_cache, g_nocache)

    # AutoTokenizer agrees with the tokenizers library on the saved files?
    try:
        at = AutoTokenizer.from_pretrained(str(d))
        at_ids = at(prompt)["input_ids"]
        at_info = {"class": type(at).__name__, "input_ids_equal": list(at_ids) == ids}
    except Exception as e:
        at_info = {"error": repr(e)}

    stats = attn_stats(attns)
    log("  attention:", stats, f"logits std {float(logits.std()):.3f}")
    files = sorted(p.name for p in d.iterdir()) + ["reference.json", "reference.safetensors"]
    meta = {
        "name": name,
        "about": spec["about"],
        "prompt": prompt,
        "bos_prepended": bool(tmeta["adds_bos"] and sp["bos"] is not None and ids[0] == sp["bos"]),
        "input_ids": ids,
        "tokens": list(enc.tokens),
        "T": T,
        "vocab_size": V,
        "tokenizer_vocab_size": n_tok,
        "special_token_ids": sp,
        "tokenizer": tmeta["style"],
        "greedy_ids": greedy,
        "greedy_text": tok.decode([i for i in greedy if i < n_tok], skip_special_tokens=False),
        "greedy_source": "model.generate(do_sample=False, max_new_tokens=20, use_cache=True, eos disabled)"
        if ok_cache
        else "manual argmax loop (generate failed)",
        "greedy_kv_cache_equals_no_cache": kv_eq,
        "greedy_generate_no_cache": g_nocache,
        "greedy_equals_manual_argmax_loop": greedy == greedy_manual,
        "greedy_min_top2_margin": mm,
        "greedy_top2_margins": [round(m, 6) for m in margins],
        "greedy_has_padded_vocab_ids": any(i >= n_tok for i in greedy),
        "weights_dtype": spec["dtype"],
        "reference_compute": "float32 on CPU, eager attention, output_attentions=True"
        + ("" if spec["dtype"] == "float32" else f", from the {spec['dtype']}-rounded weights"),
        "config_style": config_style,
        "weights_files": note,
        "seed": seed,
        "initializer_range": INIT,
        "perturbed_1d_params": len(touched),
        "dims": model_dims(cfg),
        "rotary": rotary_info(model),
        "attention_stats": stats,
        "logits_std": float(logits.std()),
        "reload_check": {k: v for k, v in reload.items() if k != "rope_parameters_reloaded"},
        "fp64_check": f64,
        "autotokenizer_check": at_info,
        "reference_tensors": {
            "input_ids": ["int32", [T]],
            "logits": ["float32", [T, V]],
            "attn.<layer>": ["float32", ["num_heads", T, T]],
            "greedy_ids": ["int32", [N_NEW]],
        },
        "files": sorted(set(files)),
        "versions": versions(),
    }
    write_reference(d, ids, logits, attns, greedy, meta)
    log(f"  wrote {name}: T={T} V={V} layers={len(attns)} heads={attns[0].shape[0]} files={meta['files']}")
    return meta


def sha256(p):
    return hashlib.sha256(Path(p).read_bytes()).hexdigest()


def make_babyllama(src, out_root):
    name = "babyllama-tok105"
    d = out_root / name
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    log(f"== {name} (from {src})")
    tok = Tokenizer.from_file(str(src / "tokenizer.json"))
    enc = tok.encode(BABYLLAMA_PROMPT)
    ids = list(enc.ids)
    try:
        fast = PreTrainedTokenizerFast(tokenizer_file=str(src / "tokenizer.json"))
        fast_ids = list(fast(BABYLLAMA_PROMPT)["input_ids"])
        fast_info = {"class": type(fast).__name__, "input_ids_equal": fast_ids == ids, "input_ids": fast_ids}
    except Exception as e:
        fast_info = {"error": repr(e)}
    bos_ok = ids[0] == 1 and tok.id_to_token(1) == "<s>"
    log(f"  prompt ids ({len(ids)}), BOS first: {bos_ok}")

    model = LlamaForCausalLM.from_pretrained(str(src), dtype=torch.float32, attn_implementation="eager")
    model.eval()
    ensure_eager(model)
    logits, attns = forward(model, ids)
    greedy_manual, margins = manual_greedy(model, ids, N_NEW)
    gen = {}
    for use_cache in (True, False):
        key = "use_cache_true" if use_cache else "use_cache_false"
        try:
            gen[key] = hf_generate(model, ids, N_NEW, use_cache, 0)
        except Exception as e:
            traceback.print_exc()
            gen[key] = "error: " + repr(e)
    g_cache, g_nocache = gen["use_cache_true"], gen["use_cache_false"]
    ok_cache = isinstance(g_cache, list) and len(g_cache) == N_NEW
    greedy = g_cache if ok_cache else greedy_manual
    kv_eq = ok_cache and g_cache == g_nocache
    text = tok.decode(greedy, skip_special_tokens=False)
    log(f"  greedy: {text!r}  cache==nocache: {kv_eq}")
    try:
        f64 = fp64_check(model, ids, logits, attns)
    except Exception as e:
        f64 = {"error": repr(e)}
    T, V = logits.shape
    meta = {
        "name": name,
        "about": "Reference outputs of the real pretrained tiny Llama babyllama-tok105 (weights and tokenizer are "
        "NOT here: tests read them from ../shared/models/babyllama-tok105)",
        "model_dir": "../shared/models/babyllama-tok105",
        "model_files_sha256": {f: sha256(src / f) for f in ("config.json", "model.safetensors", "tokenizer.json")},
        "prompt": BABYLLAMA_PROMPT,
        "bos_prepended": bos_ok,
        "bos_handling": "tokenizer.json's TemplateProcessing post-processor prepends <s> (id 1); the tokenizers "
        "library's Tokenizer.encode() adds it by default (add_special_tokens=True)",
        "input_ids": ids,
        "tokens": list(enc.tokens),
        "T": T,
        "vocab_size": V,
        "greedy_ids": greedy,
        "greedy_text": text,
        "greedy_source": "model.generate(do_sample=False, max_new_tokens=20, use_cache=True, eos disabled)"
        if ok_cache
        else "manual argmax loop (generate failed)",
        "greedy_kv_cache_equals_no_cache": kv_eq,
        "greedy_generate_no_cache": g_nocache,
        "greedy_equals_manual_argmax_loop": greedy == greedy_manual,
        "greedy_min_top2_margin": min(margins),
        "greedy_top2_margins": [round(m, 6) for m in margins],
        "weights_dtype": "float32",
        "reference_compute": "float32 on CPU, eager attention, output_attentions=True",
        "dims": model_dims(model.config),
        "attention_stats": attn_stats(attns),
        "logits_std": float(logits.std()),
        "fp64_check": f64,
        "pretrainedtokenizerfast_check": fast_info,
        "reference_tensors": {
            "input_ids": ["int32", [T]],
            "logits": ["float32", [T, V]],
            "attn.<layer>": ["float32", ["num_heads", T, T]],
            "greedy_ids": ["int32", [N_NEW]],
        },
        "files": ["reference.json", "reference.safetensors"],
        "versions": versions(),
    }
    write_reference(d, ids, logits, attns, greedy, meta)
    log(f"  wrote {name}: T={T} V={V}")
    return meta


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--babyllama", default=str(Path(__file__).resolve().parent / ".carry" / "babyllama-tok105"))
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    torch.set_grad_enabled(False)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    only = set(filter(None, args.only.split(",")))
    log("versions", versions())
    manifest, failed = [], []
    for spec in FIXTURES:
        if only and spec["name"] not in only:
            continue
        try:
            m = make_fixture(spec, out)
            manifest.append({k: m[k] for k in ("name", "about", "weights_dtype", "config_style", "T", "vocab_size")} | {"model_type": m["dims"]["model_type"]})
        except Exception:
            traceback.print_exc()
            failed.append(spec["name"])
    if not only or "babyllama-tok105" in only:
        src = Path(args.babyllama)
        if (src / "model.safetensors").exists():
            try:
                m = make_babyllama(src, out)
                manifest.append({k: m[k] for k in ("name", "about", "weights_dtype", "T", "vocab_size")} | {"model_type": "llama"})
            except Exception:
                traceback.print_exc()
                failed.append("babyllama-tok105")
        else:
            log(f"babyllama files not found at {src}; skipped")
            failed.append("babyllama-tok105")
    (out / "manifest.json").write_text(
        json.dumps({"generator": "tools/reference/make_fixtures.py", "versions": versions(), "fixtures": manifest}, indent=2) + "\n"
    )
    log("done; failed:", failed or "none")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
