package dev.cnnzoo.training.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.api.ZooException;
import org.junit.jupiter.api.Test;

class ScheduleTest {
    @Test
    void stepDecayMultipliesByGammaEveryPeriod() {
        // step:2:0.1 with 100 steps an epoch: 0.1 for steps 1–200, 0.01 for 201–400, ...
        LearningRate s = Schedule.parse("step:2:0.1", 0.1, 100, 1000);
        assertEquals(0.1, s.at(1), 1e-12);
        assertEquals(0.1, s.at(200), 1e-12);
        assertEquals(0.01, s.at(201), 1e-12);
        assertEquals(0.001, s.at(401), 1e-12);
    }

    @Test
    void cosineFallsFromTheBaseRateToZeroOverTheRun() {
        LearningRate s = Schedule.parse("cosine", 1.0, 10, 100);
        assertEquals(1.0, s.at(1), 1e-12);
        assertEquals(0.5, s.at(51), 1e-12);          // half-way: cos(π/2) = 0
        assertEquals(0.5 * (1 + Math.cos(Math.PI * 99 / 100)), s.at(100), 1e-12);
        assertTrue(s.at(100) < 1e-3);
    }

    @Test
    void warmupRampsLinearlyThenHandsOver() {
        LearningRate s = LearningRate.constant(0.4).withWarmup(4);
        assertEquals(0.1, s.at(1), 1e-12);
        assertEquals(0.3, s.at(3), 1e-12);
        assertEquals(0.4, s.at(4), 1e-12);
        assertEquals(0.4, s.at(5), 1e-12);
        assertTrue(s.describe().contains("warm-up over 4 steps"));
    }

    @Test
    void badSchedulesAreNamed() {
        assertTrue(assertThrows(ZooException.class, () -> Schedule.parse("linear", 0.1, 10, 100)).getMessage().contains("unknown schedule 'linear'"));
        assertTrue(assertThrows(ZooException.class, () -> Schedule.parse("step:2", 0.1, 10, 100)).getMessage().contains("step:EPOCHS:GAMMA"));
    }
}
