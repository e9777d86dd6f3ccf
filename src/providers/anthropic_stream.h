// Internal to providers: reading a streamed reply of Anthropic's Messages API (Server-Sent
// Events: "event: NAME" / "data: JSON" pairs from message_start to message_stop) into a
// Response. A pure function, unit-tested without a network.
#pragma once

#include "core/request.h"
#include "engine/engine.h"
#include "engine/http.h"

namespace retort::wire {

// Parses an Anthropic Messages SSE body (event:/data: lines). Fills r.text (text_delta),
// r.reasoning (thinking_delta), r.finish_reason (message_delta.delta.stop_reason),
// r.prompt_tokens (message_start.message.usage.input_tokens; cache_* input tokens are not
// added), r.completion_tokens (the last usage.output_tokens seen, message_delta's wins),
// r.ttft_s = reply.ttft_s, r.ok = true.
// Returns {} (kDone) on success; kRetry with a one-line reason when the stream ended without
// message_stop ("the stream ended before message_stop (truncated reply)") or carried a data
// line that is not JSON ("the stream carried a malformed event: '<first 80 chars>'"); an
// `event: error` / data {"type":"error","error":{"type","message"}} → kRetry when error.type
// is overloaded_error, rate_limit_error or api_error, else kFail, with the line
// "the server's stream carried an error: <type>: <message>". When it does not return kDone,
// r keeps whatever was read before the problem and r.ok stays false.
// Lines may end in CRLF; "data:" may be followed by a space or not; unknown event types
// (ping, content_block_start/stop, signature_delta, input_json_delta, ...) are ignored.
Outcome parse_anthropic_stream(const HttpReply& reply, Response& r);

}  // namespace retort::wire
