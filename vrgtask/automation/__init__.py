"""Automation as code: the task engine as a document (export, diff, apply).

- :mod:`vrgtask.automation.document`: reading and checking a document (YAML
  or JSON, line numbers from PyYAML's nodes), writing one, its JSON Schema.
- :mod:`vrgtask.automation.system`: reading what a system has, with a
  bounded number of requests, and turning it into a document.
- :mod:`vrgtask.automation.plan`: the changes that take a system to a document.
- :mod:`vrgtask.automation.execute`: applying them, each write read back.
"""
