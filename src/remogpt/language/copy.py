"""A copy path for the T5 (pointer-generator, See et al. 2017): the next token may be copied from the prompt.

Why: a reference's motion codes predict the target's well (on the built-in training clips, 39 % of a target's codes
occur in its top-1 text->motion reference, against 5 % for a random clip; where the previous target code occurs in
the reference, the next one is its successor there 46 % of the time), yet a small T5 does not learn to copy through
cross-attention (bench/results/lm_self_reference.md: the exact answer in the prompt lowers the loss by 0.02 nats per
token). Here copying is one learned gate:

    p(y) = (1 - g) * softmax(lm_logits)(y) + g * sum over prompt positions s with token y of a(s)

(the "gate" mixture; the "joint" one normalises the vocabulary logits and the copy scores together: CopyHead).

The copy attention a matches the decoder's state and its current input token against each prompt position's encoder
state and the token *before* it, so "continue the reference from where the output is" (the successor copy above) is
one bilinear match rather than an induction circuit. Every prompt token can be copied (reference codes for motions,
reference words for captions); the gate and the attention learn which.

The model's forward returns log p as its logits, so sampling, beams and logits processors work unchanged.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from transformers import T5ForConditionalGeneration
from transformers.modeling_outputs import Seq2SeqLMOutput

COPY_DIM = 64  # width of the copy attention's queries and keys
GATE_BIAS = -2.0  # start mostly generating (g ~ 0.12): a pretrained stage-1 model keeps its distribution


MIXTURES = ("gate", "joint")


class CopyHead(nn.Module):
    """Mixes the generator's distribution with copying from the prompt, in one of two ways:
    - "gate" (See et al.): p = (1 - g) softmax(logits) + g * attention, g = sigmoid(w . state);
    - "joint" (CopyNet, Gu et al.): one softmax over the vocabulary logits and a score per prompt position, so a
      confident match wins the mass by itself instead of waiting for a gate to open.
    """

    def __init__(self, d_model: int, copy_dim: int = COPY_DIM, mixture: str = "gate"):
        super().__init__()
        if mixture not in MIXTURES:
            raise ValueError(f"copy mixture must be one of {MIXTURES}, not {mixture!r}")
        self.mixture = mixture
        self.query = nn.Linear(2 * d_model, copy_dim)
        self.key = nn.Linear(2 * d_model, copy_dim)
        self.gate = nn.Linear(2 * d_model, 1)  # "gate": the gate; "joint": a per-step offset of every copy score
        nn.init.constant_(self.gate.bias, GATE_BIAS)

    def forward(
        self,
        hidden: torch.Tensor,  # (B, T, d) decoder states
        current: torch.Tensor,  # (B, T, d) embeddings of the decoder's input tokens
        encoded: torch.Tensor,  # (B, S, d) encoder states
        previous: torch.Tensor,  # (B, S, d) embeddings of the token before each prompt position
        source_ids: torch.Tensor,  # (B, S) prompt token ids
        source_mask: torch.Tensor,  # (B, S) 1 where a prompt token is (not padding)
        logits: torch.Tensor,  # (B, T, V) the generator's logits
    ) -> torch.Tensor:
        """log p(y) of the mixture, (B, T, V), in float32."""
        with torch.autocast(device_type=hidden.device.type, enabled=False):
            state = torch.cat([hidden, current], -1).float()
            keys = self.key(torch.cat([encoded, previous], -1).float())
            scores = self.query(state) @ keys.transpose(1, 2) / math.sqrt(keys.shape[-1])  # (B, T, S)
            scores = scores.masked_fill(~source_mask.bool()[:, None, :], float("-inf"))
            index = source_ids[:, None, :].expand(-1, scores.shape[1], -1)
            if self.mixture == "joint":
                vocabulary = logits.shape[-1]
                joint = torch.softmax(torch.cat([logits.float(), scores + self.gate(state)], -1), -1)
                mixed = joint[..., :vocabulary].scatter_add(-1, index, joint[..., vocabulary:])
                share = joint[..., vocabulary:].sum(-1)
            else:
                attention = torch.softmax(scores, -1)
                copied = torch.zeros_like(logits, dtype=torch.float32).scatter_add_(-1, index, attention)
                gate = torch.sigmoid(self.gate(state))
                mixed = (1 - gate) * torch.softmax(logits.float(), -1) + gate * copied
                share = gate.squeeze(-1)
            self.last_copy_share = share.detach()  # (B, T) probability mass on copying, for diagnostics (probes)
            return torch.log(mixed.clamp_min(1e-12))


class CopyT5ForConditionalGeneration(T5ForConditionalGeneration):
    """T5 whose next-token distribution mixes generating and copying from the prompt (`source_ids`).

    `source_ids` is the encoder's input ids: taken from `input_ids` when the encoder runs here, and passed to
    `generate(..., source_ids=...)` (which repeats it per sample and beam like any model input) when it does not.
    """

    def __init__(self, config, mixture: str = "gate"):
        super().__init__(config)
        self.copy_head = CopyHead(config.d_model, mixture=mixture)

    def forward(
        self,
        input_ids=None,
        attention_mask=None,
        decoder_input_ids=None,
        encoder_outputs=None,
        cache=None,
        labels=None,
        use_cache=None,
        source_ids=None,
        **kwargs,
    ) -> Seq2SeqLMOutput:
        if encoder_outputs is None:
            encoder_outputs = self.encoder(input_ids=input_ids, attention_mask=attention_mask)
        encoded = encoder_outputs[0]
        source_ids = input_ids if source_ids is None else source_ids
        if source_ids is None:
            raise ValueError("a copy model needs source_ids (the prompt's ids) when given encoder_outputs")
        if attention_mask is None:
            attention_mask = torch.ones_like(source_ids)
        if labels is not None and decoder_input_ids is None:
            decoder_input_ids = self._shift_right(labels)
        decoded = self.decoder(
            input_ids=decoder_input_ids, cache=cache, encoder_hidden_states=encoded, encoder_attention_mask=attention_mask,
            use_cache=use_cache,
        )  # fmt: skip
        hidden = decoded[0]
        scaled = hidden * (self.model_dim**-0.5) if self.config.scale_decoder_outputs else hidden
        embed = self.shared
        previous_ids = torch.cat([torch.full_like(source_ids[:, :1], self.config.pad_token_id), source_ids[:, :-1]], 1)
        log_probs = self.copy_head(
            hidden, embed(decoder_input_ids), encoded, embed(previous_ids), source_ids, attention_mask, self.lm_head(scaled)
        )
        loss = None
        if labels is not None:
            loss = nn.functional.nll_loss(log_probs.view(-1, log_probs.shape[-1]), labels.view(-1), ignore_index=-100)
        return Seq2SeqLMOutput(loss=loss, logits=log_probs, cache=decoded.cache, encoder_last_hidden_state=encoded)
