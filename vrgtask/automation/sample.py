"""The sample document ``vrgtask sandbox sample`` prints.

It applies cleanly to the seeded sandbox: it creates a schedule, a script
and two tasks, and names seeded objects (the VM ``build-runner``, the user
``ops``, the schedule ``nightly``) by name.
"""

from __future__ import annotations

__all__ = ["SAMPLE_DOCUMENT"]

SAMPLE_DOCUMENT = """\
# vrgtask automation document: try it against the sandbox with
#   vrgtask --sandbox diff -f automation.yaml
#   vrgtask --sandbox apply -f automation.yaml
version: 1
schedules:
  - name: weekdays-0630
    description: Monday to Friday at 06:30
    repeat_every: day
    start_time: 06:30
    days: weekdays
scripts:
  - name: say-hello
    description: Writes one line to the task log
    code: |
      log('hello from vrgtask')
tasks:
  - name: wake-build-runner
    owner: vms/build-runner          # table/name; table/key (vms/3) works too
    action: poweron
    description: Power on the build runner before the working day
    triggers:
      - weekdays-0630
    events:
      - event: login
        table: users
        owner: users/ops
  - name: nightly-hello
    owner: task_scripts/say-hello    # a script this document creates
    action: run
    description: Run say-hello every night
    triggers:
      - nightly                      # a schedule the sandbox already has
"""
