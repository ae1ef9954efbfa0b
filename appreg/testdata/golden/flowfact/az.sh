#!/usr/bin/env bash
# Flowfact Performer Exchange (production): app registration with the Azure CLI.
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
        "id": "652390e4-393a-48de-9484-05f9b1212954",
        "type": "Scope"
      },
      {
        "id": "d7b7f2d9-0f45-4ea1-9d42-e50810c06991",
        "type": "Scope"
      },
      {
        "id": "258f6531-6087-4cc4-bb90-092c5fb3ed3f",
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
  --display-name 'Flowfact Performer Exchange (production)' \
  --sign-in-audience AzureADMyOrg \
  --public-client-redirect-uris 'http://localhost' 'https://login.microsoftonline.com/common/oauth2/nativeclient' \
  --required-resource-accesses @"$rra" \
  --query appId -o tsv)
rm -f "$rra"
az ad sp create --id "$app_id" >/dev/null

# Grant admin consent (needs Global Administrator or Privileged Role Administrator).
az ad app permission admin-consent --id "$app_id"

# A client secret for one year; its value goes to a file only you can read.
umask 077
az ad app credential reset --id "$app_id" --append --display-name 'modauth production' --years 1 --query password -o tsv >modauth-secret.txt
echo "secret value written to $(pwd)/modauth-secret.txt: paste it into modauth, then delete the file" >&2

echo "tenant ID: $(az account show --query tenantId -o tsv)"
echo "client ID: $app_id"
