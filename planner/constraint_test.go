package planner

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/nomad-tune/tune/experiment"
)

func TestNodeConstraints(t *testing.T) {
	n := &Node{
		ID: "9f3c", Name: "gpu-7", Datacenter: "dc2", NodePool: "gpu", Class: "a100",
		Attributes: map[string]string{
			"cpu.arch":              "amd64",
			"cpu.numcores":          "64",
			"kernel.name":           "linux",
			"driver.docker.version": "24.0.7",
			"nomad.version":         "2.0.5",
			"os.name":               "ubuntu",
			"unique.storage.volume": "/dev/nvme0n1",
		},
		Meta: map[string]string{"rack": "r12", "features": "ib, nvlink,fp8"},
	}
	tests := []struct {
		name string
		c    experiment.Constraint
		want bool
	}{
		{"equality of an attribute", experiment.Constraint{Attribute: "${attr.cpu.arch}", Operator: "=", Value: "amd64"}, true},
		{"equality is the default operator", experiment.Constraint{Attribute: "${attr.cpu.arch}", Value: "amd64"}, true},
		{"== and is are equality too", experiment.Constraint{Attribute: "${attr.kernel.name}", Operator: "is", Value: "linux"}, true},
		{"another value is not equal", experiment.Constraint{Attribute: "${attr.cpu.arch}", Operator: "==", Value: "arm64"}, false},
		{"versions that are equal as numbers are still different strings", experiment.Constraint{Attribute: "1.10", Operator: "=", Value: "1.1"}, false},
		{"not equal", experiment.Constraint{Attribute: "${attr.cpu.arch}", Operator: "!=", Value: "arm64"}, true},
		{"not is not equal", experiment.Constraint{Attribute: "${attr.cpu.arch}", Operator: "not", Value: "amd64"}, false},
		{"a missing attribute is not equal to anything, as in Nomad", experiment.Constraint{Attribute: "${attr.nope}", Operator: "!=", Value: "x"}, true},
		{"a missing attribute is never equal", experiment.Constraint{Attribute: "${attr.nope}", Operator: "=", Value: ""}, false},
		{"numbers compare as numbers", experiment.Constraint{Attribute: "${attr.cpu.numcores}", Operator: ">=", Value: "8"}, true},
		{"numbers compare as numbers, not text", experiment.Constraint{Attribute: "${attr.cpu.numcores}", Operator: "<", Value: "100"}, true},
		{"greater than fails when smaller", experiment.Constraint{Attribute: "${attr.cpu.numcores}", Operator: ">", Value: "64"}, false},
		{"text compares lexically", experiment.Constraint{Attribute: "${attr.os.name}", Operator: ">", Value: "debian"}, true},
		{"a missing attribute fails an order", experiment.Constraint{Attribute: "${attr.nope}", Operator: "<=", Value: "1"}, false},
		{"regexp matches", experiment.Constraint{Attribute: "${node.unique.name}", Operator: "regexp", Value: "^gpu-[0-9]+$"}, true},
		{"regexp does not match", experiment.Constraint{Attribute: "${node.unique.name}", Operator: "regexp", Value: "^cpu-"}, false},
		{"a bad regexp matches nothing", experiment.Constraint{Attribute: "${node.unique.name}", Operator: "regexp", Value: "("}, false},
		{"version within a range", experiment.Constraint{Attribute: "${attr.driver.docker.version}", Operator: "version", Value: ">= 20.10, < 25.0"}, true},
		{"version outside a range", experiment.Constraint{Attribute: "${attr.driver.docker.version}", Operator: "version", Value: ">= 25"}, false},
		{"pessimistic version constraint", experiment.Constraint{Attribute: "${attr.nomad.version}", Operator: "version", Value: "~> 2.0"}, true},
		{"pessimistic version constraint excludes the next minor", experiment.Constraint{Attribute: "${attr.nomad.version}", Operator: "version", Value: "~> 1.9.2"}, false},
		{"semver compares numerically", experiment.Constraint{Attribute: "${attr.nomad.version}", Operator: "semver", Value: "> 1.10.0"}, true},
		{"a pre-release is older than its release", experiment.Constraint{Attribute: "2.0.5-beta.1", Operator: "semver", Value: "< 2.0.5"}, true},
		{"a value that is not a version fails", experiment.Constraint{Attribute: "${attr.os.name}", Operator: "version", Value: ">= 1"}, false},
		{"set_contains needs every item", experiment.Constraint{Attribute: "${meta.features}", Operator: "set_contains", Value: "nvlink, ib"}, true},
		{"set_contains_all fails on a missing item", experiment.Constraint{Attribute: "${meta.features}", Operator: "set_contains_all", Value: "nvlink,rdma"}, false},
		{"set_contains_any needs one item", experiment.Constraint{Attribute: "${meta.features}", Operator: "set_contains_any", Value: "rdma,fp8"}, true},
		{"set_contains_any fails with none", experiment.Constraint{Attribute: "${meta.features}", Operator: "set_contains_any", Value: "rdma"}, false},
		{"is_set on a present attribute", experiment.Constraint{Attribute: "${attr.unique.storage.volume}", Operator: "is_set"}, true},
		{"is_set on a missing attribute", experiment.Constraint{Attribute: "${meta.nope}", Operator: "is_set"}, false},
		{"is_not_set on a missing attribute", experiment.Constraint{Attribute: "${meta.nope}", Operator: "is_not_set"}, true},
		{"node id", experiment.Constraint{Attribute: "${node.unique.id}", Value: "9f3c"}, true},
		{"datacenter", experiment.Constraint{Attribute: "${node.datacenter}", Value: "dc2"}, true},
		{"node class", experiment.Constraint{Attribute: "${node.class}", Value: "a100"}, true},
		{"node pool", experiment.Constraint{Attribute: "${node.pool}", Value: "gpu"}, true},
		{"meta", experiment.Constraint{Attribute: "${meta.rack}", Value: "r12"}, true},
		{"the value side is interpolated too", experiment.Constraint{Attribute: "r12", Value: "${meta.rack}"}, true},
		{"an unknown variable fails", experiment.Constraint{Attribute: "${env.HOME}", Value: "/root"}, false},
		{"an unknown operator fails", experiment.Constraint{Attribute: "${attr.cpu.arch}", Operator: "~=", Value: "amd64"}, false},
		{"distinct_hosts is a placement rule, not a filter", experiment.Constraint{Operator: "distinct_hosts", Value: "true"}, true},
		{"distinct_property is a placement rule, not a filter", experiment.Constraint{Attribute: "${meta.rack}", Operator: "distinct_property"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			failed := nodeFailure(n, []experiment.Constraint{tt.c})
			if tt.want {
				assert.Empty(t, failed)
			} else {
				assert.Equal(t, constraintText(tt.c), failed)
			}
		})
	}
}

func TestDeviceConstraints(t *testing.T) {
	g := &DeviceGroup{Vendor: "nvidia", Type: "gpu", Name: "A100-SXM4-80GB", Attributes: map[string]string{
		"memory": "81559 MiB", "cuda_cores": "6912", "graphics_clock": "1410 MHz",
	}}
	tests := []struct {
		name string
		c    experiment.Constraint
		want bool
	}{
		{"memory with units against a larger unit", experiment.Constraint{Attribute: "${device.attr.memory}", Operator: ">=", Value: "40 GiB"}, true},
		{"memory with units that is not enough", experiment.Constraint{Attribute: "${device.attr.memory}", Operator: ">", Value: "80 GiB"}, false},
		{"a bare number is read in the attribute's unit", experiment.Constraint{Attribute: "${device.attr.memory}", Operator: ">=", Value: "40000"}, true},
		{"equal sizes in different units are equal", experiment.Constraint{Attribute: "40 GiB", Operator: "=", Value: "40960 MiB"}, true},
		{"units of different kinds do not compare as numbers", experiment.Constraint{Attribute: "${device.attr.graphics_clock}", Operator: "=", Value: "1410 MiB"}, false},
		{"frequencies compare across units", experiment.Constraint{Attribute: "${device.attr.graphics_clock}", Operator: ">", Value: "1.2 GHz"}, true},
		{"unitless attributes compare as numbers", experiment.Constraint{Attribute: "${device.attr.cuda_cores}", Operator: ">=", Value: "5000"}, true},
		{"model is the group's name", experiment.Constraint{Attribute: "${device.model}", Operator: "regexp", Value: "A100"}, true},
		{"model as an attribute is the name too", experiment.Constraint{Attribute: "${device.attr.model}", Value: "A100-SXM4-80GB"}, true},
		{"vendor", experiment.Constraint{Attribute: "${device.vendor}", Value: "nvidia"}, true},
		{"type", experiment.Constraint{Attribute: "${device.type}", Value: "fpga"}, false},
		{"a missing device attribute fails", experiment.Constraint{Attribute: "${device.attr.nope}", Operator: ">", Value: "1"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, deviceMeets(g, []experiment.Constraint{tt.c}))
		})
	}
}

func TestConstraintText(t *testing.T) {
	assert.Equal(t, "${attr.cpu.arch} = arm64", constraintText(experiment.Constraint{Attribute: "${attr.cpu.arch}", Value: "arm64"}))
	assert.Equal(t, "${meta.gpu} is_set", constraintText(experiment.Constraint{Attribute: "${meta.gpu}", Operator: "is_set"}))
	assert.Equal(t, "distinct_hosts", constraintText(experiment.Constraint{Operator: "distinct_hosts"}))
}
