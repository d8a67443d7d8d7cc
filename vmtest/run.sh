#!/usr/bin/env bash
# placeholder until the qemu kernel matrix lands; fails loudly, never passes
echo "vmtest: not implemented yet (the qemu kernel matrix is a separate issue)" >&2
exit 2
