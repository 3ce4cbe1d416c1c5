//go:build race

package racetest

const stride = 5
