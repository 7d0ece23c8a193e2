# The forms of ip's show commands people type: brief (-br), one line per
# record (-o), JSON (-j, laid out with -p), the IPv4 filter (-4), ports of a master, kinds,
# and flushing a device's addresses. Every MAC is set, so that the output
# is the same, byte for byte, on every backend.

ip netns add a
ip link add name br0 address 02:ff:00:00:00:fe type bridge
ip link set br0 up
ip link add name sw1 address 02:ff:00:00:01:01 type veth peer nic1 address 02:ff:00:00:01:02
ip link set sw1 master br0
ip link set sw1 up
ip link set nic1 up
ip link add mv0 link nic1 address 02:00:00:00:00:10 type macvlan mode bridge
ip link add mv1 link nic1 address 02:00:00:00:00:11 type macvlan mode private
ip link set mv1 netns a
ip link set mv0 up
ip addr add 10.0.1.2/24 dev mv0
ip addr add 10.0.1.3/24 dev mv0
ip addr add 10.0.9.1/16 dev nic1
ip -n a addr add 10.0.1.9/24 dev mv1

ip -br link
ip -br link show dev mv0          | grep LOWER_UP
ip -br addr
ip -br -4 addr
ip -o link
ip -o addr
ip -4 -o addr show dev mv0
ip -j link
ip -j -br link
ip -j addr
ip -4 -j addr
ip -j addr show dev sw1
ip -j -br addr
ip -j -br -4 addr
ip -j -p link show dev mv0
ip -j -p -br link
ip -j -p -br addr show dev mv0
ip -j -p -4 addr
ip -j -p addr show dev sw1
ip link show master br0
ip link show master nope                                     # expect: error
ip link show type macvlan
ip -n a -br link
ip -n a -j link show mv1
ip -n a -j -p -br addr
ip -n a -j -br link
ip -n a -o addr
ip addr flush dev mv0
ip -br addr show dev mv0
ip route
ip addr flush                                                # expect: error
ip -o link show sw1
