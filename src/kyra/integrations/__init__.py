"""Kyra's diagnosis for code that is not a Kyra workflow.

    kyra.integrations.tenacity   retry_if_healable, wait_diagnosed, stop_on_red
    kyra.integrations.heal       the `kyra.heal` decorator (plain and async functions)
    kyra.integrations.celery     HealingTask: a Celery Task base that retries GREEN only
    kyra.integrations.prefect    retry_condition_fn and on_failure hooks for Prefect 3
    kyra.integrations.recorder   where diagnoses and outcomes are recorded (Health Center)

Each needs its library installed (extras `tenacity`, `celery`, `prefect`); importing this
package imports none of them.
"""
