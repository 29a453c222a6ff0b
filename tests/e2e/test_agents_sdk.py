"""The OpenAI Agents SDK with its defaults (its Responses model) runs an agent with a
function tool against `claude-max serve` and the real pinned CLI."""

from __future__ import annotations

import asyncio
import json

import pytest
from agents import Agent, RunConfig, Runner, function_tool
from agents.models.openai_provider import OpenAIProvider
from helpers import blocks
from openai import AsyncOpenAI

pytestmark = pytest.mark.e2e

calls: list[str] = []


@function_tool
def get_weather(city: str) -> str:
    """Current weather for a city."""
    calls.append(city)
    return f"Sunny in {city}, 21C"


def test_an_agent_calls_its_function_tool_and_answers(real_server, fake_upstream):
    fake_upstream.set_script(
        {
            "rules": [
                {
                    "when": {"last_is_tool_result": True},
                    "reply": {"type": "text", "text": "It is sunny in Paris."},
                }
            ],
            "default": {
                "type": "tool_use",
                "name": "mcp__proxy__get_weather",
                "input": {"city": "Paris"},
                "id": "toolu_a1",
            },
        }
    )
    agent = Agent(
        name="Weather", instructions="Use your tools.", tools=[get_weather], model="sonnet"
    )

    async def run():  # the client lives and dies in the one event loop that uses it
        url = f"{real_server.url}/v1"
        async with AsyncOpenAI(base_url=url, api_key="unused", max_retries=0) as client:
            provider = OpenAIProvider(openai_client=client)  # the default: the Responses API
            config = RunConfig(model_provider=provider, tracing_disabled=True)
            return await Runner.run(agent, "What is the weather in Paris?", run_config=config)

    calls.clear()
    result = asyncio.run(run())
    assert result.final_output == "It is sunny in Paris."
    assert calls == ["Paris"]
    follow_up = fake_upstream.message_requests()[-1]
    [answer] = blocks(follow_up, "tool_result")
    assert answer["tool_use_id"] == "toolu_a1"
    assert "Sunny in Paris, 21C" in json.dumps(answer["content"])
