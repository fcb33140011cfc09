package dev.berth.registry.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ByteRangeTest {

    @Test
    void absentHeaderMeansWholeContent() throws Exception {
        assertNull(ByteRange.ofRequest(null, 10));
        assertNull(ByteRange.ofRequest(null, 0));
    }

    @ParameterizedTest(name = "{0} of {1} bytes -> {2}-{3}")
    @CsvSource(delimiter = '|', value = {
            "bytes=0-0     | 10 | 0 | 0",
            "bytes=0-      | 10 | 0 | 9",
            "bytes=5-9     | 10 | 5 | 9",
            "bytes=9-9     | 10 | 9 | 9",
            "bytes=9-      | 10 | 9 | 9",
            "bytes=0-9     | 10 | 0 | 9",
            // an end past the content is clamped to its last byte
            "bytes=5-10    | 10 | 5 | 9",
            "bytes=5-1000  | 10 | 5 | 9",
            "bytes=0-0     | 1  | 0 | 0",
            // suffix ranges: the last N bytes, all of them when N exceeds the size
            "bytes=-3      | 10 | 7 | 9",
            "bytes=-1      | 10 | 9 | 9",
            "bytes=-10     | 10 | 0 | 9",
            "bytes=-11     | 10 | 0 | 9",
            "bytes=-1000   | 10 | 0 | 9",
            "' bytes=2-3 ' | 10 | 2 | 3",
    })
    void satisfiableRanges(String header, long size, long start, long end) throws Exception {
        ByteRange range = ByteRange.ofRequest(header, size);
        assertEquals(new ByteRange(start, end), range);
        assertEquals(end - start + 1, range.length());
    }

    @Test
    void largeContent() throws Exception {
        long size = 10L * 1024 * 1024 * 1024;
        assertEquals(new ByteRange(size - 100, size - 1), ByteRange.ofRequest("bytes=-100", size));
        assertEquals(new ByteRange(4_294_967_296L, size - 1), ByteRange.ofRequest("bytes=4294967296-", size));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            // start at or past the end of the content
            "bytes=10-     | 10",
            "bytes=10-20   | 10",
            "bytes=11-11   | 10",
            // nothing is satisfiable in empty content
            "bytes=0-      | 0",
            "bytes=0-0     | 0",
            "bytes=-1      | 0",
            // a zero-length suffix
            "bytes=-0      | 10",
            // a start too large for a long is certainly past the end
            "bytes=9999999999999999999-           | 10",
            "bytes=99999999999999999999999999999- | 10",
    })
    void unsatisfiableRanges(String header, long size) {
        assertThrows(ByteRange.Unsatisfiable.class, () -> ByteRange.ofRequest(header, size));
    }

    /** RFC 9110: a Range header that is invalid, in another unit, or (here) multi-part is ignored. */
    @ParameterizedTest(name = "[{index}] ''{0}'' is ignored")
    @ValueSource(strings = {
            // last before first is an invalid range
            "bytes=5-4", "bytes=9-0",
            // only single ranges are supported
            "bytes=0-1,3-4", "bytes=0-1, 3-4",
            // malformed
            "bytes=-", "bytes=", "bytes=a-b", "bytes=1-2-3", "bytes=-1-2", "bytes=0x1-2", "bytes 0-1", "bytes=+1-2",
            "Bytes=0-1", "", "garbage", "0-1",
            // another unit
            "items=0-1",
    })
    void invalidRangeHeadersAreIgnored(String header) throws Exception {
        assertNull(ByteRange.ofRequest(header, 10));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "bytes=0-9223372036854775807",
            "bytes=0-9999999999999999999",
            "bytes=0-99999999999999999999999999",
    })
    void hugeLastPositionIsClampedToTheContent(String header) throws Exception {
        // RFC 9110 14.1.2: a last-pos at or past the length means "to the end", however large it is
        assertEquals(new ByteRange(0, 9), ByteRange.ofRequest(header, 10));
    }

    @ParameterizedTest
    @ValueSource(strings = {"bytes=-9223372036854775807", "bytes=-99999999999999999999999"})
    void hugeSuffixIsTheWholeContent(String header) throws Exception {
        assertEquals(new ByteRange(0, 9), ByteRange.ofRequest(header, 10));
    }

    @ParameterizedTest(name = "{0} -> {1}-{2}")
    @CsvSource(delimiter = '|', value = {
            "0-99            | 0   | 99",
            "bytes 0-99      | 0   | 99",
            "bytes 0-99/*    | 0   | 99",
            "bytes=0-99      | 0   | 99",
            "bytes 0-99/100  | 0   | 99",
            "100-199         | 100 | 199",
            "5-5             | 5   | 5",
            "' 0-99 '        | 0   | 99",
    })
    void uploadChunkRanges(String header, long start, long end) throws Exception {
        ByteRange range = ByteRange.ofUploadChunk(header);
        assertEquals(new ByteRange(start, end), range);
        assertEquals(end - start + 1, range.length());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "-5", "5-", "-", "9-3", "abc", "a-b", "0-99/", "0-99/abc", "bytes", "bytes=",
            "bytes 0-", "0-1,2-3", "bytes  0-1", "0 - 1", "items 0-99", "99999999999999999999-99999999999999999999",
            "9999999999999999999-9999999999999999999"})
    void invalidUploadChunkRanges(String header) {
        assertThrows(ByteRange.Unsatisfiable.class, () -> ByteRange.ofUploadChunk(header));
    }
}
