#!/usr/bin/env bash
# Generic Exchange (production): app registration with the Azure CLI.
# Sign in first as an admin of the customer's tenant:
#   az login --tenant <tenant ID or domain> --allow-no-subscriptions
set -euo pipefail

rra=$(mktemp)
cat >"$rra" <<'JSON'
[
  {
    "resourceAppId": "00000003-0000-0000-c000-000000000000",
    "resourceAccess": [
      {
        "id": "1ec239c2-d7c9-4623-a91a-a9775856bb36",
        "type": "Scope"
      },
      {
        "id": "d56682ec-c09e-4743-aaf4-1a3aac4caa21",
        "type": "Scope"
      },
      {
        "id": "2219042f-cab5-40cc-b0d2-16b1540b4c5f",
        "type": "Scope"
      },
      {
        "id": "37f7f235-527c-4136-accd-4a02d197296e",
        "type": "Scope"
      },
      {
        "id": "14dad69e-099b-42c9-810b-d002981feec1",
        "type": "Scope"
      },
      {
        "id": "7427e0e9-2fba-42fe-b0c0-848c9e6a8182",
        "type": "Scope"
      },
      {
        "id": "e1fe6dd8-ba31-4d61-89e7-88639da4683d",
        "type": "Scope"
      }
    ]
  }
]
JSON

app_id=$(az ad app create \
  --display-name 'Generic Exchange (production)' \
  --sign-in-audience AzureADMyOrg \
  --is-fallback-public-client true \
  --public-client-redirect-uris 'http://localhost' \
  --required-resource-accesses @"$rra" \
  --query appId -o tsv)
rm -f "$rra"
az ad sp create --id "$app_id" >/dev/null

# Grant admin consent (needs Global Administrator or Privileged Role Administrator).
az ad app permission admin-consent --id "$app_id"

echo "tenant ID: $(az account show --query tenantId -o tsv)"
echo "client ID: $app_id"
