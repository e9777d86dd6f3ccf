#include "data/parquet_format.h"

namespace retort::parquet {

namespace {

// Calls fn(id, type) for each field of the struct being read; fn skips what it ignores.
template <typename Fn>
void read_struct(ThriftReader& r, Fn&& fn) {
  r.begin_struct();
  int16_t id;
  ThriftType t;
  while (r.next_field(id, t)) fn(id, t);
  r.end_struct();
}

void expect(ThriftReader& r, ThriftType got, ThriftType want, const char* field) {
  if (got != want) r.fail(std::string("field '") + field + "' has the wrong type");
}

template <typename Fn>
void read_list(ThriftReader& r, ThriftType t, const char* field, ThriftType elem, Fn&& fn) {
  expect(r, t, ThriftType::kList, field);
  ThriftType et;
  uint32_t n = r.read_list_header(et);
  if (et != elem) r.fail(std::string("list '") + field + "' has the wrong element type");
  for (uint32_t i = 0; i < n; ++i) fn();
}

int32_t i32(ThriftReader& r, ThriftType t, const char* field) {
  if (t != ThriftType::kI32 && t != ThriftType::kI16 && t != ThriftType::kByte) {
    r.fail(std::string("field '") + field + "' has the wrong type");
  }
  if (t == ThriftType::kByte) return r.read_byte();
  return r.read_i32();
}

int64_t i64(ThriftReader& r, ThriftType t, const char* field) {
  if (t == ThriftType::kI32 || t == ThriftType::kI16) return r.read_i32();
  expect(r, t, ThriftType::kI64, field);
  return r.read_i64();
}

bool boolean(ThriftReader& r, ThriftType t, const char* field) {
  if (t != ThriftType::kTrue && t != ThriftType::kFalse) {
    r.fail(std::string("field '") + field + "' has the wrong type");
  }
  return t == ThriftType::kTrue;
}

TimeUnit read_time_unit(ThriftReader& r) {
  TimeUnit u = TimeUnit::kMicros;
  read_struct(r, [&](int16_t id, ThriftType t) {
    if (id == 1)
      u = TimeUnit::kMillis;
    else if (id == 2)
      u = TimeUnit::kMicros;
    else if (id == 3)
      u = TimeUnit::kNanos;
    r.skip(t);
  });
  return u;
}

LogicalType read_logical(ThriftReader& r) {
  LogicalType lt;
  read_struct(r, [&](int16_t id, ThriftType t) {
    if (t != ThriftType::kStruct) {
      r.skip(t);
      return;
    }
    switch (id) {
      case 5:
        lt.kind = Logical::kDecimal;
        read_struct(r, [&](int16_t fid, ThriftType ft) {
          if (fid == 1)
            lt.scale = i32(r, ft, "scale");
          else if (fid == 2)
            lt.precision = i32(r, ft, "precision");
          else
            r.skip(ft);
        });
        return;
      case 7:
      case 8:
        lt.kind = id == 7 ? Logical::kTime : Logical::kTimestamp;
        read_struct(r, [&](int16_t fid, ThriftType ft) {
          if (fid == 1)
            lt.utc = boolean(r, ft, "isAdjustedToUTC");
          else if (fid == 2 && ft == ThriftType::kStruct)
            lt.unit = read_time_unit(r);
          else
            r.skip(ft);
        });
        return;
      case 10:
        lt.kind = Logical::kInteger;
        read_struct(r, [&](int16_t fid, ThriftType ft) {
          if (fid == 1)
            lt.bit_width = i32(r, ft, "bitWidth");
          else if (fid == 2)
            lt.is_signed = boolean(r, ft, "isSigned");
          else
            r.skip(ft);
        });
        return;
      default:
        if ((id >= 1 && id <= 6) || (id >= 11 && id <= 15)) lt.kind = static_cast<Logical>(id);
        r.skip(t);
    }
  });
  return lt;
}

SchemaElement read_schema_element(ThriftReader& r) {
  SchemaElement e;
  read_struct(r, [&](int16_t id, ThriftType t) {
    switch (id) {
      case 1: {
        int32_t v = i32(r, t, "type");
        if (v < 0 || v > 7) r.fail("unknown physical type " + std::to_string(v));
        e.type = static_cast<Type>(v);
        break;
      }
      case 2:
        e.type_length = i32(r, t, "type_length");
        break;
      case 3: {
        int32_t v = i32(r, t, "repetition_type");
        if (v < 0 || v > 2) r.fail("unknown repetition type " + std::to_string(v));
        e.repetition = static_cast<Repetition>(v);
        break;
      }
      case 4:
        expect(r, t, ThriftType::kBinary, "name");
        e.name = r.read_string();
        break;
      case 5:
        e.num_children = i32(r, t, "num_children");
        break;
      case 6:
        e.converted = i32(r, t, "converted_type");
        break;
      case 7:
        e.scale = i32(r, t, "scale");
        break;
      case 8:
        e.precision = i32(r, t, "precision");
        break;
      case 10:
        expect(r, t, ThriftType::kStruct, "logicalType");
        e.logical = read_logical(r);
        break;
      default:
        r.skip(t);
    }
  });
  return e;
}

ColumnMetaData read_column_meta(ThriftReader& r) {
  ColumnMetaData m;
  read_struct(r, [&](int16_t id, ThriftType t) {
    switch (id) {
      case 1:
        m.type = i32(r, t, "type");
        break;
      case 2:
        read_list(r, t, "encodings", ThriftType::kI32,
                  [&] { m.encodings.push_back(r.read_i32()); });
        break;
      case 3:
        read_list(r, t, "path_in_schema", ThriftType::kBinary,
                  [&] { m.path.push_back(r.read_string()); });
        break;
      case 4:
        m.codec = i32(r, t, "codec");
        break;
      case 5:
        m.num_values = i64(r, t, "num_values");
        break;
      case 6:
        m.total_uncompressed_size = i64(r, t, "total_uncompressed_size");
        break;
      case 7:
        m.total_compressed_size = i64(r, t, "total_compressed_size");
        break;
      case 9:
        m.data_page_offset = i64(r, t, "data_page_offset");
        break;
      case 11:
        m.dictionary_page_offset = i64(r, t, "dictionary_page_offset");
        break;
      default:
        r.skip(t);
    }
  });
  return m;
}

ColumnChunk read_column_chunk(ThriftReader& r) {
  ColumnChunk c;
  read_struct(r, [&](int16_t id, ThriftType t) {
    if (id == 1 && t == ThriftType::kBinary) {
      c.file_path = r.read_string();
    } else if (id == 3 && t == ThriftType::kStruct) {
      c.meta = read_column_meta(r);
      c.has_meta = true;
    } else {
      r.skip(t);
    }
  });
  return c;
}

RowGroup read_row_group(ThriftReader& r) {
  RowGroup g;
  read_struct(r, [&](int16_t id, ThriftType t) {
    switch (id) {
      case 1:
        read_list(r, t, "columns", ThriftType::kStruct,
                  [&] { g.columns.push_back(read_column_chunk(r)); });
        break;
      case 2:
        g.total_byte_size = i64(r, t, "total_byte_size");
        break;
      case 3:
        g.num_rows = i64(r, t, "num_rows");
        break;
      default:
        r.skip(t);
    }
  });
  return g;
}

}  // namespace

FileMetaData parse_file_metadata(ThriftReader& r) {
  FileMetaData m;
  read_struct(r, [&](int16_t id, ThriftType t) {
    switch (id) {
      case 1:
        m.version = i32(r, t, "version");
        break;
      case 2:
        read_list(r, t, "schema", ThriftType::kStruct,
                  [&] { m.schema.push_back(read_schema_element(r)); });
        break;
      case 3:
        m.num_rows = i64(r, t, "num_rows");
        break;
      case 4:
        read_list(r, t, "row_groups", ThriftType::kStruct,
                  [&] { m.row_groups.push_back(read_row_group(r)); });
        break;
      case 5:
        read_list(r, t, "key_value_metadata", ThriftType::kStruct, [&] {
          std::pair<std::string, std::string> kv;
          read_struct(r, [&](int16_t fid, ThriftType ft) {
            if (fid == 1 && ft == ThriftType::kBinary)
              kv.first = r.read_string();
            else if (fid == 2 && ft == ThriftType::kBinary)
              kv.second = r.read_string();
            else
              r.skip(ft);
          });
          m.key_value.push_back(std::move(kv));
        });
        break;
      case 6:
        expect(r, t, ThriftType::kBinary, "created_by");
        m.created_by = r.read_string();
        break;
      default:
        r.skip(t);
    }
  });
  return m;
}

PageHeader parse_page_header(ThriftReader& r) {
  PageHeader h;
  read_struct(r, [&](int16_t id, ThriftType t) {
    switch (id) {
      case 1:
        h.type = i32(r, t, "type");
        break;
      case 2:
        h.uncompressed_size = i32(r, t, "uncompressed_page_size");
        break;
      case 3:
        h.compressed_size = i32(r, t, "compressed_page_size");
        break;
      case 5:
        expect(r, t, ThriftType::kStruct, "data_page_header");
        h.has_data = true;
        read_struct(r, [&](int16_t fid, ThriftType ft) {
          if (fid == 1)
            h.num_values = i32(r, ft, "num_values");
          else if (fid == 2)
            h.encoding = i32(r, ft, "encoding");
          else if (fid == 3)
            h.def_encoding = i32(r, ft, "definition_level_encoding");
          else if (fid == 4)
            h.rep_encoding = i32(r, ft, "repetition_level_encoding");
          else
            r.skip(ft);
        });
        break;
      case 7:
        expect(r, t, ThriftType::kStruct, "dictionary_page_header");
        h.has_dict = true;
        read_struct(r, [&](int16_t fid, ThriftType ft) {
          if (fid == 1)
            h.num_values = i32(r, ft, "num_values");
          else if (fid == 2)
            h.encoding = i32(r, ft, "encoding");
          else
            r.skip(ft);
        });
        break;
      case 8:
        expect(r, t, ThriftType::kStruct, "data_page_header_v2");
        h.has_data_v2 = true;
        read_struct(r, [&](int16_t fid, ThriftType ft) {
          switch (fid) {
            case 1:
              h.num_values = i32(r, ft, "num_values");
              break;
            case 2:
              h.num_nulls = i32(r, ft, "num_nulls");
              break;
            case 3:
              h.num_rows = i32(r, ft, "num_rows");
              break;
            case 4:
              h.encoding = i32(r, ft, "encoding");
              break;
            case 5:
              h.def_length = i32(r, ft, "definition_levels_byte_length");
              break;
            case 6:
              h.rep_length = i32(r, ft, "repetition_levels_byte_length");
              break;
            case 7:
              h.is_compressed = boolean(r, ft, "is_compressed");
              break;
            default:
              r.skip(ft);
          }
        });
        break;
      default:
        r.skip(t);
    }
  });
  return h;
}

const char* type_name(int32_t type) {
  static const char* kNames[] = {"BOOLEAN", "INT32",  "INT64",      "INT96",
                                 "FLOAT",   "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
  return type >= 0 && type <= 7 ? kNames[type] : "UNKNOWN";
}

const char* codec_name(int32_t codec) {
  static const char* kNames[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO",
                                 "BROTLI",       "LZ4",    "ZSTD", "LZ4_RAW"};
  return codec >= 0 && codec <= 7 ? kNames[codec] : "UNKNOWN";
}

const char* encoding_name(int32_t encoding) {
  static const char* kNames[] = {
      "PLAIN",          "GROUP_VAR_INT",       "PLAIN_DICTIONARY",        "RLE",
      "BIT_PACKED",     "DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY",
      "RLE_DICTIONARY", "BYTE_STREAM_SPLIT"};
  return encoding >= 0 && encoding <= 9 ? kNames[encoding] : "UNKNOWN";
}

}  // namespace retort::parquet
