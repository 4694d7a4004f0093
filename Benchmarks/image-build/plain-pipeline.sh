#!/usr/bin/env bash
# The comparison for the image-build benchmark: what a person would script for a per-machine image without
# Gold, with nothing mounted. Copies an extracted base tree, applies the benchmark machine's files (hostname,
# hosts, networkd unit, a sudo user with an ssh key, ssh and networkd enabled, one binary, fstab by UUID, GRUB for
# UEFI), then builds a sparse 2 GiB raw disk: sfdisk GPT, a 64 MiB ESP (mkfs.vfat + mcopy), ext4 root with
# mkfs.ext4 -d. No chunk store, no file list, not reproducible (random UUIDs, build-time timestamps).
#
#   plain-pipeline.sh BASE_TREE MACHINE OUT_IMAGE WORK_DIR APP_BINARY SSH_KEY     (as root: the tree keeps owners)
set -euo pipefail
export LC_ALL=C MTOOLS_SKIP_CHECK=1
base=$1 name=$2 out=$3 work=$4 app=$5 key=$6
tree=$work/tree
mkdir -p "$work"
uuid() { cat /proc/sys/kernel/random/uuid; }
esp_uuid=$(head -c4 /dev/urandom | od -An -tx1 | tr -d ' \n')
root_uuid=$(uuid)

cp -a "$base" "$tree"

echo "$name" > "$tree/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' "$name" > "$tree/etc/hosts"
mkdir -p "$tree/etc/systemd/network" "$tree/etc/systemd/system/multi-user.target.wants"
printf '[Match]\nMACAddress=52:54:00:00:00:01\n\n[Network]\nDHCP=yes\n' > "$tree/etc/systemd/network/20-wired.network"
for unit in systemd-networkd.service ssh.service; do
    ln -sf "/lib/systemd/system/$unit" "$tree/etc/systemd/system/multi-user.target.wants/$unit"
done
useradd --root "$tree" --create-home --groups sudo --shell /bin/bash ops
install -d -m 700 -o 1000 -g 1000 "$tree/home/ops/.ssh"
echo "$key" > "$tree/home/ops/.ssh/authorized_keys"
chown 1000:1000 "$tree/home/ops/.ssh/authorized_keys"
chmod 600 "$tree/home/ops/.ssh/authorized_keys"
mkdir -p "$tree/etc/sudoers.d"
echo 'ops ALL=(ALL) NOPASSWD: ALL' > "$tree/etc/sudoers.d/ops"
chmod 440 "$tree/etc/sudoers.d/ops"
install -D -m 755 "$app" "$tree/usr/local/bin/app"
printf 'UUID=%s / ext4 errors=remount-ro 0 1\nUUID=%s-%s /boot/efi vfat umask=0077 0 1\n' \
    "$root_uuid" "${esp_uuid:0:4}" "${esp_uuid:4:4}" > "$tree/etc/fstab"

kernel=$(cd "$tree/boot" && ls vmlinuz-* | sort -V | tail -1)
version=${kernel#vmlinuz-}
mkdir -p "$tree/boot/grub"
cp -a /usr/lib/grub/x86_64-efi "$tree/boot/grub/"
cat > "$tree/boot/grub/grub.cfg" <<CFG
set timeout=1
menuentry 'Debian $version' --id debian {
    search --no-floppy --fs-uuid --set=root $root_uuid
    linux /boot/vmlinuz-$version root=UUID=$root_uuid ro console=ttyS0,115200n8
    initrd /boot/initrd.img-$version
}
CFG
printf 'search --no-floppy --fs-uuid --set=root %s\nconfigfile /boot/grub/grub.cfg\n' "$root_uuid" > "$work/early.cfg"
grub-mkimage -O x86_64-efi -o "$work/BOOTX64.EFI" -c "$work/early.cfg" -p /EFI/BOOT \
    part_gpt fat ext2 search search_fs_uuid configfile normal linux echo test loadenv serial terminal efi_gop all_video

truncate -s 2G "$out"
sfdisk --no-reread --no-tell-kernel -q "$out" <<GPT
label: gpt
start=2048, size=64MiB, type=uefi, name=ESP
type=linux, name=root
GPT
read -r root_start root_sectors < <(partx -g -o START,SECTORS -n 2 "$out")
mkfs.vfat -C -i "$esp_uuid" -n ESP "$work/esp.img" 65536 >/dev/null
mmd -i "$work/esp.img" ::/EFI ::/EFI/BOOT
mcopy -i "$work/esp.img" "$work/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI
dd if="$work/esp.img" of="$out" bs=1M seek=1 conv=notrunc,sparse status=none
mkfs.ext4 -q -F -t ext4 -L root -U "$root_uuid" -E "offset=$((root_start * 512))" -d "$tree" \
    "$out" "$((root_sectors / 2))k"
rm -rf "$tree" "$work/esp.img"
