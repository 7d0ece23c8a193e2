# The kernel's rules for creating and changing macvlans (spec sections 5 and
# 11), each refusal with the errno Linux 6.18 gives. Nothing here pings.

ip link add name v1 address 7e:00:00:00:00:01 type veth peer v2
ip link set v2 up

# Two macvlans may be created with the same MAC; only one can be up.
ip link add link v1 name mv1 address 02:00:00:00:00:01 type macvlan mode bridge
ip link add link v1 name mv2 address 02:00:00:00:00:01 type macvlan mode bridge
ip link set mv1 up
ip link set mv2 up                                            # expect: error
# Nor can a macvlan with the lower's own MAC come up.
ip link add link v1 name mv3 address 7e:00:00:00:00:01 type macvlan mode vepa
ip link set mv3 up                                            # expect: error
# Changing a MAC to an up sibling's is refused, up or down; so is a group address.
ip link add link v1 name mv4 address 02:00:00:00:00:04 type macvlan mode vepa
ip link set mv4 address 02:00:00:00:00:01                     # expect: error
ip link set mv4 address 01:00:5e:00:00:01                     # expect: error
ip link set mv4 address 02:00:00:00:00:44
ip link set mv4 up
ip link show mv4 | grep 02:00:00:00:00:44

# MTU: never above the lower's; follows the lower down, never up.
ip link add link v1 name mv5 mtu 9000 type macvlan            # expect: error
ip link set mv1 mtu 1501                                      # expect: error
ip link set v1 mtu 1400
ip link show mv1 | grep "mtu 1400"
ip link set v1 mtu 1500
ip link show mv1 | grep "mtu 1400"
ip link set mv1 mtu 1500

# Passthru needs a lower of its own, and then keeps it.
ip link add link v1 name pt type macvlan mode passthru        # expect: error
ip link add name v3 address 7e:00:00:00:00:03 type veth peer v4
ip link add link v3 name pt type macvlan mode passthru
ip link show pt | grep 7e:00:00:00:00:03
ip link add link v3 name mvx type macvlan mode bridge         # expect: error
ip link set pt type macvlan mode bridge                       # expect: error
ip link set mv1 type macvlan mode passthru                    # expect: error

# Source lists belong to source mode; group addresses are refused in them.
ip link set mv1 type macvlan macaddr add 02:00:00:00:00:09    # expect: error
ip link add link v1 name src type macvlan mode source macaddr add 01:00:00:00:00:09   # expect: error
ip link add link v1 name src type macvlan mode source macaddr add 02:00:00:00:00:09
ip link set src type macvlan macaddr del 02:00:00:00:00:77
ip link set src type macvlan macaddr flush

# A lower with macvlans cannot join a bridge; a bridge port cannot carry macvlans.
ip link add name br0 type bridge
ip link set v1 master br0                                     # expect: error
ip link set v4 master br0
ip link add link v4 name mvb type macvlan                     # expect: error
# Nor can loopback carry one.
ip link add link lo name mvlo type macvlan                    # expect: error
# A macvlan without a lower is refused by the kernel.
ip link add name orphan type macvlan mode bridge              # expect: error

# A macvlan on a macvlan joins the real lower.
ip link add link mv1 name mvs type macvlan mode bridge
ip link show mvs | grep "mvs@v1"
ip link del mv1
ip link show mvs | grep "mvs@v1"

# Deleting the lower deletes its macvlans.
ip link del v1
ip link show mvs                                              # expect: error
ip link show mv4                                              # expect: error
