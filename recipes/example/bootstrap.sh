#!/bin/bash
# Runs once on the builder as root. A non-zero exit fails the bake (and cleans everything up).
set -euo pipefail

dnf -y update
dnf -y install nginx
systemctl enable nginx

# Leave no per-instance state in the image.
rm -f /etc/ssh/ssh_host_*
cloud-init clean --logs
