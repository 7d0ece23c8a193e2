# A macvlan created on a macvlan is a sibling on the real lower: it shows the
# lower as its link, talks to its "parent" like any sibling, and survives the
# deletion of the macvlan it was created on.

ip link add name br0 type bridge
ip link set br0 up
ip link add name port type veth peer nic
ip link set port master br0
ip link set port up
ip addr add 10.2.0.254/24 dev br0
ip netns add srv
ip netns add g1
ip netns add g2
ip link set nic netns srv
ip netns exec srv ip link set nic up
ip netns exec srv ip link add m1 link nic type macvlan mode bridge
ip netns exec srv ip link add m2 link m1 type macvlan mode bridge
ip netns exec srv ip link show m2 | grep "m2@nic"
ip netns exec srv ip link set m1 netns g1
ip netns exec srv ip link set m2 netns g2
ip netns exec g1 ip addr add 10.2.0.1/24 dev m1
ip netns exec g2 ip addr add 10.2.0.2/24 dev m2
ip netns exec g1 ip link set m1 up
ip netns exec g2 ip link set m2 up
sleep 1
ip netns exec g2 ping -c 1 -W 1 10.2.0.1      # expect: ok
ip netns exec g2 ping -c 1 -W 1 10.2.0.254    # expect: ok
ip netns exec g1 ip link del m1
ip netns exec g2 ping -c 1 -W 1 10.2.0.254    # expect: ok
ip netns exec g2 ping -c 1 -W 1 10.2.0.1      # expect: fail
