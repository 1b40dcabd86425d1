#!/usr/bin/env python3
"""Train Headscope's bundled default model, `headscope-tiny`, from scratch, reproducibly.

One command (on a machine with one CUDA GPU, torch, transformers, tokenizers, safetensors):

    python3 tools/train/train.py --corpus PATH/young-readers.txt.xz --out OUTDIR

It does, in order, with one seed (--seed, default 1234):

  1. reads the corpus (books separated by a line holding ASCII 0x1E), holds out --val-books whole books
     (seeded choice) for validation;
  2. trains a byte-level BPE tokenizer (`tokenizers`, GPT-2 pre-tokenizer, no prefix space, vocab 8192)
     on a seeded ~--tok-mb MB subset of the training books, then makes sure that the ordinal words
     Headscope's successor-head analysis uses (" 1".." 200", " one".." twenty", " first".." tenth",
     " Monday".." Sunday", " January".." December", " A".." Z") are single tokens: the lowest-priority
     learned merges are dropped and merges that build the missing words are appended at the end;
  3. tokenizes every book (multi-threaded batch encode), books joined by <|endoftext|>;
  4. trains a Llama-layout decoder (RMSNorm, rotary, SwiGLU, tied embeddings) with AdamW, bf16 autocast,
     linear warm-up + cosine decay over a FIXED number of steps (--steps), on random windows of
     --ctx tokens drawn from a seeded generator;
  5. evaluates validation loss / perplexity on the held-out books;
  6. exports the Hugging Face layout in fp16 (config.json, model.safetensors, tokenizer.json,
     tokenizer_config.json, generation_config.json), reloads it with transformers in fp32 (eager
     attention), checks it against the training module, and writes reference outputs (logits, greedy
     continuations) plus the sink-rate / induction cross-checks into OUTDIR/reference and
     OUTDIR/metrics.json.

GPU kernels are not bitwise deterministic (atomics in reductions, autotuned kernels), so a rerun with
the same seed gives a model of the same quality but not bit-identical weights.
"""

import argparse
import json
import lzma
import math
import os
import random
import re
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

T_START = time.time()
EOT = "<|endoftext|>"
RS = "\x1e"


def log(*a):
    print(f"[{time.time() - T_START:7.1f}s]", *a, flush=True)


# ----------------------------------------------------------------------------------------------- data


def read_books(path):
    with lzma.open(path, "rt", encoding="utf-8") as f:
        text = f.read()
    books, cur = [], []
    for line in text.split("\n"):
        if line.rstrip("\r") == RS:
            if cur:
                books.append("\n".join(cur).strip("\n") + "\n")
            cur = []
        else:
            cur.append(line)
    if cur and "".join(cur).strip():
        books.append("\n".join(cur).strip("\n") + "\n")
    return [unwrap(b.replace(RS, "")) for b in books if b.strip()]


def unwrap(text):
    """Gutenberg texts are hard-wrapped at ~70 columns: join the lines of each paragraph (a single newline
    becomes a space, blank lines stay), collapse runs of spaces/tabs, drop trailing spaces."""
    text = text.replace("\r\n", "\n")
    text = re.sub(r"(?<!\n)\n(?!\n)", " ", text)
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    return text.strip("\n") + "\n"


def chunks_of(text, size=4000):
    """Split a text into pieces just before a newline that is followed by a non-space character. The GPT-2
    pattern makes that newline a pre-token of its own and ends the whitespace run before it at the same
    place, so encoding the pieces gives exactly the ids of encoding the whole text."""
    out, start, n = [], 0, len(text)
    while start < n:
        end = start + size
        if end >= n:
            out.append(text[start:])
            break
        j = text.find("\n", end)
        while j != -1 and j + 1 < n and text[j + 1].isspace():
            j = text.find("\n", j + 1)
        if j == -1 or j + 1 >= n:
            out.append(text[start:])
            break
        out.append(text[start:j])
        start = j
    return out


# ------------------------------------------------------------------------------------------ tokenizer

ONES = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty".split()
ORDS = "first second third fourth fifth sixth seventh eighth ninth tenth".split()
DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
MONTHS = "January February March April May June July August September October November December".split()
LETTERS = [chr(c) for c in range(ord("A"), ord("Z") + 1)]
TARGET_WORDS = [" " + w for w in [str(i) for i in range(1, 201)] + ONES + ORDS + DAYS + MONTHS + LETTERS]


def train_tokenizer(texts, vocab_size):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=[EOT],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    def it():
        for t in texts:
            yield from chunks_of(t, 20000)

    tok.train_from_iterator(it(), trainer=trainer)
    return tok


def _tok_from(js):
    from tokenizers import Tokenizer

    return Tokenizer.from_str(json.dumps(js))


def _bpe_pieces(word, ranks):
    """Standard BPE on one ASCII word with a leading space (byte-level: the space is 'Ġ')."""
    syms = ["\u0120" if ch == " " else ch for ch in word]
    while len(syms) > 1:
        best = min(range(len(syms) - 1), key=lambda i: ranks.get((syms[i], syms[i + 1]), 1 << 60))
        if (syms[best], syms[best + 1]) not in ranks:
            break
        syms[best : best + 2] = [syms[best] + syms[best + 1]]
    return syms


def _merge_pair(m):
    return tuple(m) if isinstance(m, list) else tuple(m.split(" ", 1))


def _with_words(base_js, truncate, words):
    """Drop the last `truncate` merges (and the tokens they made), then append merges that build every
    word in `words` from the pieces the remaining merges leave it in. Returns (json, added_words, n_new)."""
    js = json.loads(json.dumps(base_js))
    model = js["model"]
    vocab, merges = model["vocab"], model["merges"]
    V = len(vocab)
    if truncate:
        for m in merges[-truncate:]:
            a, b = _merge_pair(m)
            tid = vocab.get(a + b)
            assert tid is not None and tid >= V - truncate, f"merge {a!r}+{b!r} is not among the last ids"
            del vocab[a + b]
        del merges[-truncate:]
    assert sorted(vocab.values()) == list(range(len(vocab)))
    as_list = isinstance(merges[0], list) if merges else True
    have = set(_merge_pair(m) for m in merges)
    ranks = {_merge_pair(m): r for r, m in enumerate(merges)}
    added, n_new = [], 0
    for w in words:
        pieces = _bpe_pieces(w, ranks)
        if len(pieces) == 1:
            continue
        added.append(w)
        cur = pieces[0]
        for p in pieces[1:]:
            if (cur, p) not in ranks:
                merges.append([cur, p] if as_list else f"{cur} {p}")
                ranks[(cur, p)] = len(ranks)
            cur = cur + p
            if cur not in vocab:
                vocab[cur] = len(vocab)
                n_new += 1
    return js, added, n_new


def ensure_single_tokens(tok, words, vocab_size):
    base = json.loads(tok.to_str())
    base["model"]["ignore_merges"] = False
    t = 0
    for _ in range(12):
        js, added, n_new = _with_words(base, t, words)
        if n_new <= t:
            break
        t = n_new
    js, added, n_new = _with_words(base, t, words)
    assert n_new <= t
    final = _tok_from(js)
    base_tok = _tok_from(base)
    # the Python BPE above must agree with the library on the unmodified tokenizer
    ranks0 = {_merge_pair(m): r for r, m in enumerate(base["model"]["merges"])}
    for w in words:
        assert _bpe_pieces(w, ranks0) == base_tok.encode(w, add_special_tokens=False).tokens, w
    bad = [w for w in words if len(final.encode(w, add_special_tokens=False).ids) != 1]
    assert not bad, f"still split: {bad}"
    info = {
        "trained_vocab": len(base["model"]["vocab"]),
        "dropped_lowest_priority_merges": t,
        "appended_tokens": n_new,
        "final_vocab": final.get_vocab_size(with_added_tokens=True),
        "words_built_by_appended_merges": [w.strip() for w in added],
    }
    return final, info


# -------------------------------------------------------------------------------------------- model


class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        dt = x.dtype
        x = x.float()
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x.to(dt)


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, self.h, self.dh = c["d"], c["heads"], c["d"] // c["heads"]
        self.q_proj = nn.Linear(d, d, bias=False)
        self.k_proj = nn.Linear(d, d, bias=False)
        self.v_proj = nn.Linear(d, d, bias=False)
        self.o_proj = nn.Linear(d, d, bias=False)

    def forward(self, x, cos, sin):
        B, T, _ = x.shape
        q = self.q_proj(x).view(B, T, self.h, self.dh).transpose(1, 2)
        k = self.k_proj(x).view(B, T, self.h, self.dh).transpose(1, 2)
        v = self.v_proj(x).view(B, T, self.h, self.dh).transpose(1, 2)
        q = (q * cos + rotate_half(q) * sin).to(v.dtype)
        k = (k * cos + rotate_half(k) * sin).to(v.dtype)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.o_proj(y.transpose(1, 2).reshape(B, T, -1))


class MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.gate_proj = nn.Linear(c["d"], c["ff"], bias=False)
        self.up_proj = nn.Linear(c["d"], c["ff"], bias=False)
        self.down_proj = nn.Linear(c["ff"], c["d"], bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.input_layernorm = RMSNorm(c["d"], c["eps"])
        self.self_attn = Attention(c)
        self.post_attention_layernorm = RMSNorm(c["d"], c["eps"])
        self.mlp = MLP(c)

    def forward(self, x, cos, sin):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin)
        return x + self.mlp(self.post_attention_layernorm(x))


class Inner(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed_tokens = nn.Embedding(c["vocab"], c["d"])
        self.layers = nn.ModuleList([Layer(c) for _ in range(c["layers"])])
        self.norm = RMSNorm(c["d"], c["eps"])


class LM(nn.Module):
    """Same parameter names and arithmetic as transformers' LlamaForCausalLM (tied lm_head)."""

    def __init__(self, c):
        super().__init__()
        self.c = c
        self.model = Inner(c)
        dh = c["d"] // c["heads"]
        inv = 1.0 / (c["rope_theta"] ** (torch.arange(0, dh, 2, dtype=torch.int64).float() / dh))
        self.register_buffer("inv_freq", inv, persistent=False)
        std = 0.02
        for n, p in self.named_parameters():
            if p.dim() == 2:
                s = std / math.sqrt(2 * c["layers"]) if n.endswith(("o_proj.weight", "down_proj.weight")) else std
                nn.init.normal_(p, 0.0, s)

    def rope(self, T, device):
        pos = torch.arange(T, device=device, dtype=torch.float32)
        f = torch.outer(pos, self.inv_freq.to(device))
        emb = torch.cat((f, f), dim=-1)
        return emb.cos()[None, None], emb.sin()[None, None]

    def forward(self, idx, targets=None):
        x = self.model.embed_tokens(idx)
        cos, sin = self.rope(idx.shape[1], idx.device)
        cos, sin = cos.to(x.dtype), sin.to(x.dtype)
        for layer in self.model.layers:
            x = layer(x, cos, sin)
        x = self.model.norm(x)
        logits = F.linear(x, self.model.embed_tokens.weight)
        if targets is None:
            return logits
        return F.cross_entropy(logits.float().view(-1, logits.size(-1)), targets.reshape(-1))


# --------------------------------------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--val-books", type=int, default=6)
    ap.add_argument("--tok-mb", type=float, default=24.0)
    ap.add_argument("--vocab", type=int, default=8192)
    ap.add_argument("--d", type=int, default=256)
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--ff", type=int, default=768)
    ap.add_argument("--ctx", type=int, default=512)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--min-lr-frac", type=float, default=0.1)
    ap.add_argument("--wd", type=float, default=0.1)
    ap.add_argument("--time-limit", type=float, default=450, help="safety stop (s of training); 0 = none")
    ap.add_argument("--no-compile", action="store_true")
    ap.add_argument("--limit-books", type=int, default=0, help="smoke tests: use only this many books")
    ap.add_argument("--device", default="cuda", help="cpu only for tests of the script")
    ap.add_argument("--repeat-frac", type=float, default=0.5, help="share of windows with a repeated span")
    ap.add_argument("--repeat-min", type=int, default=8)
    ap.add_argument("--repeat-max", type=int, default=64)
    ap.add_argument("--repeat-source", choices=["text", "random"], default="random",
                    help="what the repeated span holds: text of the window, or random token ids (only in-context copying predicts their second copy)")
    ap.add_argument("--bos-frac", type=float, default=1.0, help="share of windows whose first token is <|endoftext|>")
    ap.add_argument("--add-bos", action=argparse.BooleanOptionalAction, default=True, help="the tokenizer prepends <|endoftext|> (add_bos_token)")
    ap.add_argument("--skip-checks", action="store_true", help="cpu tests: stop after validation")
    args = ap.parse_args()

    out = Path(args.out)
    (out / "model").mkdir(parents=True, exist_ok=True)
    (out / "reference").mkdir(parents=True, exist_ok=True)
    metrics = {"args": vars(args), "timings_s": {}}

    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    dev = args.device
    log(f"torch {torch.__version__}, device {torch.cuda.get_device_name(0) if dev == 'cuda' else dev}")

    # 1. corpus + split
    books = read_books(args.corpus)
    if args.limit_books:
        books = books[: args.limit_books]
    rng = random.Random(args.seed)
    val_idx = sorted(rng.sample(range(len(books)), args.val_books))
    val_books = [books[i] for i in val_idx]
    train_books = [b for i, b in enumerate(books) if i not in set(val_idx)]
    metrics["corpus"] = {
        "books": len(books),
        "chars": sum(map(len, books)),
        "val_book_indices": val_idx,
        "val_book_first_lines": [b.strip().split("\n")[0][:80] for b in val_books],
        "val_chars": sum(map(len, val_books)),
    }
    log(f"books {len(books)} ({metrics['corpus']['chars'] / 1e6:.1f} M chars); val books {val_idx}")
    metrics["timings_s"]["read"] = time.time() - T_START

    # 2. tokenizer
    t0 = time.time()
    order = list(range(len(train_books)))
    rng.shuffle(order)
    sub, total = [], 0
    for i in order:
        if total >= args.tok_mb * 1e6:
            break
        sub.append(train_books[i])
        total += len(train_books[i])
    tok = train_tokenizer(sub, args.vocab)
    tok, tok_info = ensure_single_tokens(tok, TARGET_WORDS, args.vocab)
    tok_info["trained_on_chars"] = total
    metrics["tokenizer"] = tok_info
    metrics["timings_s"]["tokenizer"] = time.time() - t0
    log(f"tokenizer: {json.dumps({k: v for k, v in tok_info.items() if k != 'words_built_by_appended_merges'})}")
    log(f"  built by appended merges: {' '.join(tok_info['words_built_by_appended_merges'])}")
    V = tok.get_vocab_size(with_added_tokens=True)
    eot = tok.token_to_id(EOT)
    assert eot == 0

    # 3. tokenize
    t0 = time.time()

    def encode_all(bs):
        # one big batch for throughput; book starts marked by EOT
        pieces, owners = [], []
        for bi, b in enumerate(bs):
            cs = chunks_of(b)
            pieces.extend(cs)
            owners.extend([bi] * len(cs))
        enc = tok.encode_batch(pieces, add_special_tokens=False)
        arrs, last = [], -1
        for o, e in zip(owners, enc):
            if o != last:
                arrs.append(np.array([eot], dtype=np.int32))
                last = o
            arrs.append(np.asarray(e.ids, dtype=np.int32))
        return np.concatenate(arrs)

    train_ids = encode_all(train_books)
    val_ids = encode_all(val_books)
    metrics["tokens"] = {"train": int(train_ids.size), "val": int(val_ids.size), "chars_per_token": sum(map(len, train_books)) / train_ids.size}
    metrics["timings_s"]["tokenize"] = time.time() - t0
    log(f"tokens: train {train_ids.size / 1e6:.2f} M, val {val_ids.size / 1e6:.3f} M ({metrics['tokens']['chars_per_token']:.2f} chars/token)")

    # 4. model + training
    c = dict(vocab=V, d=args.d, layers=args.layers, heads=args.heads, ff=args.ff, eps=1e-5, rope_theta=10000.0)
    torch.manual_seed(args.seed)
    model = LM(c).to(dev)
    n_params = sum(p.numel() for p in model.parameters())
    metrics["params"] = n_params
    log(f"model {c}, {n_params / 1e6:.2f} M parameters")
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": args.wd}, {"params": no_decay, "weight_decay": 0.0}],
        lr=args.lr, betas=(0.9, 0.95), eps=1e-8, fused=dev == "cuda",
    )

    def lr_at(s):
        if s < args.warmup:
            return args.lr * (s + 1) / args.warmup
        p = (s - args.warmup) / max(1, args.steps - args.warmup)
        return args.lr * (args.min_lr_frac + (1 - args.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * min(1.0, p))))

    data = torch.from_numpy(train_ids.astype(np.int64)).to(dev)
    gen = torch.Generator(device=dev)
    gen.manual_seed(args.seed)
    T, B = args.ctx, args.batch
    ar = torch.arange(T + 1, device=dev)

    def batch():
        off = torch.randint(0, data.numel() - T - 1, (B,), device=dev, generator=gen)
        idx = ar.expand(B, -1)
        if args.repeat_frac > 0:
            # in a fraction of the windows, a span of the window is written again later in it: only
            # in-context copying predicts the second copy (no extra randomness is drawn when off)
            u = torch.rand(B, 4, device=dev, generator=gen)
            L = (args.repeat_min + u[:, 0] * (args.repeat_max - args.repeat_min + 1)).long().clamp(max=(T + 1) // 2)
            a = (u[:, 1] * (T + 2 - 2 * L)).long()
            b = a + L + (u[:, 2] * (T + 2 - a - 2 * L)).long()
            pos = ar[None, :]
            inside = (pos >= b[:, None]) & (pos < (b + L)[:, None]) & (u[:, 3] < args.repeat_frac)[:, None]
            idx = torch.where(inside, pos - b[:, None] + a[:, None], pos)
        w = data[off[:, None] + idx]
        if args.repeat_frac > 0 and args.repeat_source == "random":
            # the source span becomes random ids (its copy follows through idx): a model that has memorised
            # its books cannot predict them, so the loss on the copy rewards copying from context alone
            src = (pos >= a[:, None]) & (pos < (a + L)[:, None]) & (u[:, 3] < args.repeat_frac)[:, None]
            rnd = torch.randint(1, args.vocab, (B, T + 1), device=dev, generator=gen)
            w = torch.where(src, rnd, w)
            w = torch.gather(w, 1, idx)
        if args.bos_frac > 0:
            first = torch.where(torch.rand(B, device=dev, generator=gen) < args.bos_frac, eot, w[:, 0])
            w = torch.cat([first[:, None], w[:, 1:]], 1)
        return w[:, :-1], w[:, 1:]

    def loss_fn(m, x, y):
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=dev == "cuda"):
            return m(x, y)

    step_fn = model
    if not args.no_compile:
        try:
            step_fn = torch.compile(model)
        except Exception as e:  # noqa: BLE001
            log("torch.compile unavailable:", e)
    model.train()
    t_train = time.time()
    t_first = None
    hist = []
    steps_done = 0
    for s in range(args.steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(s)
        x, y = batch()
        try:
            loss = loss_fn(step_fn, x, y)
        except Exception as e:  # noqa: BLE001
            if step_fn is model:
                raise
            log("compiled step failed, falling back to eager:", repr(e)[:300])
            step_fn = model
            loss = loss_fn(step_fn, x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        steps_done = s + 1
        if s == 0:
            if dev == "cuda":
                torch.cuda.synchronize()
            t_first = time.time()
            log(f"first step done (compile etc.) in {t_first - t_train:.1f}s")
        if s % 1000 == 0 or s == args.steps - 1:
            lv = loss.item()
            el = time.time() - t_first
            rate = s / el if s and el > 0 else 0.0
            hist.append({"step": s, "loss": round(lv, 4), "lr": lr_at(s), "elapsed_s": round(time.time() - t_train, 1)})
            log(f"step {s:6d} loss {lv:.4f} lr {lr_at(s):.2e} gnorm {gn.item():.2f} {rate:.2f} steps/s {rate * B * T / 1e6:.2f} Mtok/s")
        if args.time_limit and time.time() - t_train > args.time_limit:
            log(f"TIME LIMIT: stopped after {steps_done} of {args.steps} steps")
            break
    if dev == "cuda":
        torch.cuda.synchronize()
    train_s = time.time() - t_train
    steady = (steps_done - 1) / (time.time() - t_first) if steps_done > 1 else 0
    metrics["training"] = {
        "steps": steps_done, "steps_planned": args.steps, "batch": B, "ctx": T, "tokens_seen": steps_done * B * T,
        "epochs": steps_done * B * T / train_ids.size, "train_s": train_s, "first_step_s": t_first - t_train,
        "steps_per_s": steady, "history": hist, "completed": steps_done == args.steps,
    }
    metrics["timings_s"]["train"] = train_s
    log(f"trained {steps_done} steps in {train_s:.1f}s ({steady:.2f} steps/s steady)")

    # 5. validation (on fp16-rounded weights in fp32, as shipped)
    model.eval()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.half().float())

    def eval_loss(ids, bf16):
        # Windows look like the model's inputs: when training windows start with <|endoftext|>, so do
        # these (T − 1 text tokens after it); otherwise T text tokens.
        v = torch.from_numpy(ids.astype(np.int64)).to(dev)
        W = T - 1 if args.bos_frac > 0 else T
        n = (v.numel() - 1) // W
        xs = v[: n * W].view(n, W)
        ys = v[1 : n * W + 1].view(n, W)
        if W < T:
            xs = torch.cat([torch.full((n, 1), eot, dtype=xs.dtype, device=dev), xs], 1)
            ys = torch.cat([xs[:, 1:2], ys], 1)
        tot, cnt = 0.0, 0
        with torch.no_grad():
            for i in range(0, n, 64):
                with torch.autocast("cuda", dtype=torch.bfloat16, enabled=bf16):
                    lg = model(xs[i : i + 64])
                l = F.cross_entropy(lg.float().reshape(-1, V), ys[i : i + 64].reshape(-1), reduction="sum")
                tot += l.item()
                cnt += ys[i : i + 64].numel()
        return tot / cnt, cnt

    vl, vn = eval_loss(val_ids, False)
    tl, _ = eval_loss(train_ids[: val_ids.size], False)
    metrics["validation"] = {"loss": vl, "perplexity": math.exp(vl), "tokens": vn, "windows_ctx": T,
                             "train_sample_loss": tl, "train_sample_perplexity": math.exp(tl)}
    log(f"val loss {vl:.4f} ppl {math.exp(vl):.2f} (train sample loss {tl:.4f})")

    if args.skip_checks:
        (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        log("stopping before export (--skip-checks)")
        return

    # 6. export
    t0 = time.time()
    import transformers
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    md = out / "model"
    cfg = LlamaConfig(
        vocab_size=V, hidden_size=args.d, intermediate_size=args.ff, num_hidden_layers=args.layers,
        num_attention_heads=args.heads, num_key_value_heads=args.heads, head_dim=args.d // args.heads,
        max_position_embeddings=T, rms_norm_eps=1e-5, hidden_act="silu", tie_word_embeddings=True,
        attention_bias=False, mlp_bias=False, bos_token_id=eot, eos_token_id=eot, pad_token_id=None,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0}, initializer_range=0.02, use_cache=True,
    )
    hf = LlamaForCausalLM(cfg)
    sd = {k: v.detach().cpu().half() for k, v in model.state_dict().items()}
    missing, unexpected = hf.load_state_dict(sd, strict=False)
    missing = [k for k in missing if k != "lm_head.weight"]
    assert not missing and not unexpected, (missing, unexpected)
    hf.tie_weights()
    hf = hf.half()
    hf.generation_config = GenerationConfig(bos_token_id=eot, eos_token_id=eot, do_sample=False)
    hf.save_pretrained(str(md))
    # classic (4.x) keys beside transformers-5 ones, for every reader
    cj = json.loads((md / "config.json").read_text())
    cj["torch_dtype"] = "float16"
    cj.setdefault("dtype", "float16")
    cj["rope_theta"] = 10000.0
    cj.setdefault("rope_scaling", None)
    cj["tie_word_embeddings"] = True
    cj["architectures"] = ["LlamaForCausalLM"]
    (md / "config.json").write_text(json.dumps(cj, indent=2, sort_keys=True) + "\n")
    if args.add_bos:
        from tokenizers import processors

        tok.post_processor = processors.TemplateProcessing(single=f"{EOT} $A", pair=f"{EOT} $A {EOT} $B", special_tokens=[(EOT, eot)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, model_max_length=T, bos_token=EOT, eos_token=EOT, unk_token=EOT)
    fast.save_pretrained(str(md))
    tc = json.loads((md / "tokenizer_config.json").read_text())
    tc["add_bos_token"] = bool(args.add_bos)
    tc["add_eos_token"] = False
    tc["clean_up_tokenization_spaces"] = False
    (md / "tokenizer_config.json").write_text(json.dumps(tc, indent=2) + "\n")
    gc = {"bos_token_id": eot, "eos_token_id": eot, "do_sample": False}
    (md / "generation_config.json").write_text(json.dumps(gc, indent=2) + "\n")
    for f in ("special_tokens_map.json", "chat_template.jinja"):
        if (md / f).exists():
            (md / f).unlink()
    metrics["files"] = {p.name: p.stat().st_size for p in sorted(md.iterdir())}
    log(f"saved {metrics['files']}")

    # 7. reload with transformers, fp32, eager; compare with the training module
    from transformers import AutoModelForCausalLM, AutoTokenizer

    ref = AutoModelForCausalLM.from_pretrained(str(md), dtype=torch.float32, attn_implementation="eager").to(dev).eval()
    htok = AutoTokenizer.from_pretrained(str(md))
    metrics["transformers"] = transformers.__version__
    with torch.no_grad():
        x = torch.from_numpy(val_ids[:4 * T].astype(np.int64)).view(4, T).to(dev)
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        d_train = (ref(x).logits - model(x)).abs().max().item()
    metrics["hf_vs_training_module_max_abs_logit_diff"] = d_train
    log(f"transformers fp32 vs training module (fp16-rounded weights, fp32): max |dlogit| = {d_train:.2e}")
    assert d_train < 1e-2, "the exported model does not match the trained one"

    prompts = [
        "Once upon a time, there was a little girl who lived in a small house near the woods.",
        'The old sailor looked at the boy and said, "You must never tell anyone what you saw on the ship',
        "On Monday, Tuesday and Wednesday the children went to school; on Thursday they stayed at home.",
    ]
    openings = [
        "Once upon a time, there was a little",
        "The king had three sons. The youngest",
        "It was a cold winter morning, and Tom",
    ]
    from safetensors.torch import save_file

    bos = [eot] if args.add_bos else []  # what Headscope's encode() prepends by default

    tensors, rj = {}, {"model": "headscope-tiny", "bos_prepended": bool(args.add_bos), "dtype_note": "fp16 weights read as fp32, eager attention, no TF32", "prompts": [], "greedy": []}
    with torch.no_grad():
        for pi, p in enumerate(prompts):
            ids = htok(p)["input_ids"]
            assert ids == bos + tok.encode(p, add_special_tokens=False).ids
            assert len(ids) <= 64
            lg = ref(torch.tensor([ids], device=dev)).logits[0].float().cpu()
            tensors[f"prompt{pi}.input_ids"] = torch.tensor(ids, dtype=torch.int32)
            tensors[f"prompt{pi}.argmax"] = lg.argmax(-1).to(torch.int32)
            tensors[f"prompt{pi}.logits_last4"] = lg[-4:].contiguous()
            if pi == 0:
                tensors["prompt0.logits"] = lg[: min(len(ids), 12)].contiguous()
            rj["prompts"].append({"text": p, "input_ids": ids, "T": len(ids), "logits_last4_positions": list(range(len(ids) - 4, len(ids))),
                                  "full_logits_positions": len(tensors["prompt0.logits"]) if pi == 0 else 0})
        for gi, p in enumerate(openings):
            ids = htok(p)["input_ids"]
            assert ids == bos + tok.encode(p, add_special_tokens=False).ids
            cur = list(ids)
            margins = []
            for _ in range(40):
                lg = ref(torch.tensor([cur], device=dev)).logits[0, -1].float()
                top = torch.topk(lg, 2)
                margins.append(float(top.values[0] - top.values[1]))
                nxt = int(top.indices[0])
                cur.append(nxt)
                if nxt == eot:
                    break
            gen_ids = cur[len(ids):]
            # transformers' own generate (KV cache) must agree
            g2 = ref.generate(torch.tensor([ids], device=dev), max_new_tokens=40, do_sample=False, eos_token_id=eot, pad_token_id=eot)[0, len(ids):].tolist()
            tensors[f"greedy{gi}.input_ids"] = torch.tensor(ids, dtype=torch.int32)
            tensors[f"greedy{gi}.ids"] = torch.tensor(gen_ids, dtype=torch.int32)
            rj["greedy"].append({"prompt": p, "input_ids": ids, "greedy_ids": gen_ids, "text": htok.decode(gen_ids),
                                 "generate_agrees": g2 == gen_ids, "min_top2_margin": min(margins)})
            log(f"GREEDY {p!r} -> {htok.decode(gen_ids)!r} (generate agrees: {g2 == gen_ids}, min margin {min(margins):.3f})")
    save_file(tensors, str(out / "reference" / "reference.safetensors"))
    (out / "reference" / "reference.json").write_text(json.dumps(rj, indent=2) + "\n")

    # 8. cross-checks with transformers: first-token sink rate and induction score
    # held-out passages (one a line, whitespace collapsed), each at least 64 tokens; saved for `headscope analyze`
    g = np.random.default_rng(args.seed)
    n_prompts = 32
    passages = []
    while len(passages) < n_prompts:
        bk = val_books[int(g.integers(len(val_books)))]
        at = int(g.integers(0, max(1, len(bk) - 2000)))
        para = bk.find("\n\n", at)
        if para < 0:
            continue
        text = " ".join(bk[para : para + 1500].split())
        cut = text.rfind(". ", 0, 700)
        text = text[: cut + 1] if cut > 300 else text[:700]
        if len(tok.encode(text, add_special_tokens=False).ids) >= 64:
            passages.append(text)
    (out / "reference" / "sink_prompts.txt").write_text("\n".join(passages) + "\n")
    with torch.no_grad():
        xs = torch.tensor([(bos + tok.encode(t, add_special_tokens=False).ids)[:64] for t in passages], device=dev)
        att = ref(xs, output_attentions=True).attentions  # L x [P, H, 64, 64]
        imp0 = torch.stack([a[:, :, :, 0].mean(-1) for a in att], 1)  # [P, L, H]
        sink_rate = 100.0 * (imp0 > 0.3).float().mean().item()
        per_head_sink = (imp0 > 0.3).float().mean(0)  # [L, H]
        n = 50
        rnd = torch.tensor(g.integers(1000, V, (16, n)), device=dev)
        seq = torch.cat([rnd, rnd], 1)
        att = ref(seq, output_attentions=True).attentions
        ind = torch.stack([torch.stack([a[:, :, i, i - (n - 1)] for i in range(n, 2 * n)], -1).mean((-1, 0)) for a in att])  # [L, H]
        prev = torch.stack([torch.stack([a[:, :, i, i - 1] for i in range(1, 2 * n)], -1).mean((-1, 0)) for a in att])
        li, hi = divmod(int(ind.argmax()), ind.shape[1])
        # loss on the repeated half vs the first half (in-context copying)
        lg = ref(seq).logits.float()
        ce = F.cross_entropy(lg[:, :-1].reshape(-1, V), seq[:, 1:].reshape(-1), reduction="none").view(16, -1)
    metrics["sink"] = {"prompts": n_prompts, "T": 64, "eps": 0.3, "first_token_sink_rate_pct": sink_rate,
                       "per_layer_sink_rate_pct": (100 * per_head_sink.mean(1)).tolist(),
                       "mean_imp0_per_layer": imp0.mean((0, 2)).tolist()}
    metrics["induction"] = {"sequences": 16, "n": n, "token_range": [1000, V - 1], "max_score": float(ind.max()), "max_head": [li, hi],
                            "heads_above_0.3": [[l, h, round(float(ind[l, h]), 3)] for l in range(ind.shape[0]) for h in range(ind.shape[1]) if ind[l, h] > 0.3],
                            "scores": [[round(float(v), 4) for v in row] for row in ind],
                            "max_prev_token_score": float(prev.max()), "max_prev_token_head": list(divmod(int(prev.argmax()), prev.shape[1])),
                            "loss_first_repeat": float(ce[:, : n - 1].mean()), "loss_second_repeat": float(ce[:, n:].mean())}
    log(f"SINK RATE (eps 0.3, T 64, {n_prompts} held-out prompts): {sink_rate:.1f}%  per layer {[round(v, 1) for v in metrics['sink']['per_layer_sink_rate_pct']]}")
    log(f"INDUCTION best {float(ind.max()):.3f} at L{li}H{hi}; heads > 0.3: {metrics['induction']['heads_above_0.3']}; "
        f"loss 1st/2nd repeat {metrics['induction']['loss_first_repeat']:.2f}/{metrics['induction']['loss_second_repeat']:.2f}")
    metrics["timings_s"]["export_and_checks"] = time.time() - t0
    metrics["timings_s"]["total"] = time.time() - T_START
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    log("done")


if __name__ == "__main__":
    main()
