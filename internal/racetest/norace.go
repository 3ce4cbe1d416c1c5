//go:build !race

package racetest

const stride = 1
