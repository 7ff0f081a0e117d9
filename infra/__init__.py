"""What an operator deploys: one stack per service plus a shared stack, rendered from code.

`infra.stacks` declares the stacks; `infra.templates` renders them to CloudFormation. The local
stack creates the same templates in the emulator, so names, keys and indexes cannot drift.
"""
