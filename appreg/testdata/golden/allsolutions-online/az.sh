#!/usr/bin/env bash
# AllSolutions Exchange (production): app registration with the Azure CLI.
# Sign in first as an admin of the customer's tenant:
#   az login --tenant <tenant ID or domain> --allow-no-subscriptions
set -euo pipefail

rra=$(mktemp)
cat >"$rra" <<'JSON'
[
  {
    "resourceAppId": "00000002-0000-0ff1-ce00-000000000000",
    "resourceAccess": [
      {
        "id": "3b5f3d61-589b-4a3c-a359-5dd4b5ee5bd5",
        "type": "Scope"
      }
    ]
  },
  {
    "resourceAppId": "00000003-0000-0000-c000-000000000000",
    "resourceAccess": [
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
  --display-name 'AllSolutions Exchange (production)' \
  --sign-in-audience AzureADMyOrg \
  --public-client-redirect-uris 'http://localhost' \
  --web-redirect-uris 'https://crm.example.com/jsonhandler.ashx' \
  --required-resource-accesses @"$rra" \
  --query appId -o tsv)
rm -f "$rra"
az ad sp create --id "$app_id" >/dev/null

# A client secret for one year; its value goes to a file only you can read.
umask 077
az ad app credential reset --id "$app_id" --append --display-name 'modauth production' --years 1 --query password -o tsv >modauth-secret.txt
echo "secret value written to $(pwd)/modauth-secret.txt: paste it into modauth, then delete the file" >&2

echo "tenant ID: $(az account show --query tenantId -o tsv)"
echo "client ID: $app_id"
