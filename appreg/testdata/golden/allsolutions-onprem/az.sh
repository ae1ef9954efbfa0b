#!/usr/bin/env bash
# AllSolutions Exchange (production): app registration with the Azure CLI.
# Nothing to register: on-premises Exchange is reached with a service account (see the checklist).
