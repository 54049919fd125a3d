#!/bin/sh
# System tests of VM userlands other than the host's (issue 13): a VM on a
# Debian tree built with mmdebstrap (image == 'debian:bookworm', packages ==
# ['hello'], a package the host does not have) runs that program through
# vtb exec and a task; its private directories (a tmpfs each, one seeded
# from a host directory); a second vtb up finds the tree cached; a package
# that does not exist fails vtb up naming it, before anything is created;
# unknown suites and packages on a container are model errors. Needs root,
# mmdebstrap and Debian's mirror (the first run builds the tree: a minute
# or two); VMs boot under TCG here (slow).
cd "$(dirname "$0")/../.." || exit 2
. tests/system/lib.sh
VM_EXEC_S=${VM_EXEC_S:-120}
PKG=hello # small, and not on the host (checked below)
for tool in mmdebstrap jq; do
	command -v "$tool" >/dev/null || { not_ok "$tool is installed (scripts/deps.sh installs it)"; finish; exit; }
done
if command -v "$PKG" >/dev/null; then
	not_ok "the host has no '$PKG' (the test shows the VM's comes from its own tree)"
fi
m=$(mktemp -d /tmp/vtbmodels.XXXXXX)
on_exit "rm -rf $m"
mkdir "$m/seed"
echo seeded-from-the-host >"$m/seed/f.conf"

cat >"$m/deb.vtb" <<M
d = topo.device('d', image == 'debian:bookworm', packages == ['$PKG'],
                private == ['/etc/vtbseed=$m/seed', '/var/lib/vtbx'])
c = topo.device('c')
topo.connect([d, c])
task('greet', run(d, '$PKG -g from-the-debian-vm'))
M
# the first up builds the tree unless an earlier run did
"$VTB" up "$m/deb.vtb" --name debimg >"$m/up1.out" 2>&1
expect "up: a VM on debian:bookworm with '$PKG', and a container" \
	sh -c "'$VTB' status debimg --json | jq -e '.nodes[] | select(.name == \"d\") | .vm.state == \"ready\"'"
on_exit "$VTB down debimg >/dev/null 2>&1"
x() { timeout "$VM_EXEC_S" "$VTB" exec debimg "$@"; }
expect "the VM runs '$PKG' from its Debian tree (the host has none)" \
	sh -c "'$VTB' exec debimg d -- $PKG | grep -q 'Hello, world!'"
expect "the VM's /usr is the tree's: Debian 12" x d -- sh -c 'grep -q "^12\." /usr/../etc/debian_version'
expect "a task runs '$PKG' on the VM" sh -c "'$VTB' run debimg | grep -q '1 ok'"
expect "the private directory /etc/vtbseed holds the host's seed" \
	sh -c "'$VTB' exec debimg d -- cat /etc/vtbseed/f.conf | grep -q seeded-from-the-host"
expect "the private directories are tmpfs of the guest's own" \
	x d -- sh -c 'grep -q " /var/lib/vtbx tmpfs" /proc/mounts && grep -q " /etc/vtbseed tmpfs" /proc/mounts && touch /var/lib/vtbx/y /etc/vtbseed/z'
expect "the host's seed is not touched" test ! -e "$m/seed/z"
expect "the VM's /etc (the tree's under a private layer) is writable, the tree is not changed" \
	x d -- sh -c 'echo x >/etc/vtb-deb-test'
expect "nothing the guest wrote is in the cached trees" sh -c "! ls /var/cache/vtb/images/rootfs-*/root/etc/vtb-deb-test 2>/dev/null"
expect "down" "$VTB" down debimg

# cached: the second up builds nothing
t0=$(date +%s)
"$VTB" up "$m/deb.vtb" --name debimg >"$m/up2.out" 2>&1
t1=$(date +%s)
if grep -q mmdebstrap "$m/up2.out" || ! "$VTB" exec debimg d -- "$PKG" >/dev/null 2>&1; then
	not_ok "a second vtb up finds the tree cached" "$(cat "$m/up2.out")"
else
	ok "a second vtb up finds the tree cached (up in $((t1 - t0)) s, no mmdebstrap)"
fi
expect "down" "$VTB" down debimg

# a package that does not exist: vtb up fails naming it and the device,
# before anything is created
sed "s/'$PKG'/'vtb-no-such-package'/" "$m/deb.vtb" >"$m/nopkg.vtb"
expect_fail "a package that does not exist is refused, naming it" 1 \
	"device 'd' \\(image == 'debian:bookworm'\\): package 'vtb-no-such-package' does not exist in debian:bookworm" \
	"$VTB" up "$m/nopkg.vtb" --name debnopkg
expect "nothing of the refused experiment is left" sh -c "! '$VTB' status debnopkg >/dev/null 2>&1"

# the model's errors: a suite vtb does not build, packages on a container
cat >"$m/bad.vtb" <<'M'
d = topo.device('d', image == 'debian:sid')
topo.connect([d, topo.device('c')])
M
cat >"$m/bad2.vtb" <<'M'
e = topo.device('e', virt == false, image == 'debian:bookworm')
topo.connect([e, topo.device('c')])
M
cat >"$m/bad3.vtb" <<'M'
c = topo.device('c', packages == ['frr'])
topo.connect([c, topo.device('e')])
M
out=$("$VTB" compile "$m/bad.vtb" 2>&1)
if printf '%s\n' "$out" | grep -q "vtb cannot build the userland 'debian:sid'" &&
	printf '%s\n' "$out" | grep -q "vtb builds 'debian:bookworm'"; then
	ok "an unknown suite is a model error listing the ones vtb builds"
else
	not_ok "an unknown suite is a model error listing the ones vtb builds" "$out"
fi
expect_fail "image on a container (virt == false) is a model error" 1 \
	"device 'e': virt == false, but image == \"debian:bookworm\" needs a VM" "$VTB" compile "$m/bad2.vtb"
expect_fail "packages without an image are refused" 1 \
	"device 'c': packages are installed in an image" "$VTB" up "$m/bad3.vtb" --name debbad
run_cleanup
finish
