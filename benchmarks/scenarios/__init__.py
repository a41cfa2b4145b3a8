"""The six benchmark scenarios; each module exposes `run(ctx) -> ScenarioResult`."""
